/**
 * nodeos log lines in the real console format (spring
 * libraries/libfc/src/log/console_appender.cpp 91-133): level padded to 5,
 * ISO time, thread name padded to 9, `file:line` padded to 29, method
 * padded to 20, `] ` and the message.
 */
export function nodeosLine(level: 'info' | 'warn' | 'error', fileLine: string, method: string, message: string): string {
  return `${level.padEnd(5)} 2026-12-02T13:26:12.345 ${'nodeos'.padEnd(9)} ${fileLine.padEnd(29)} ${method.padEnd(20)} ] ${message}`;
}

/** How main.cpp logs an fc exception that ends start-up: `elog("${e}", e.to_detail_string())`, several lines. */
export function nodeosException(code: number, name: string, what: string, message: string): string[] {
  return [
    nodeosLine('error', 'main.cpp:229', 'main', `${code} ${name}: ${what}`),
    message,
    '    {}',
    '    nodeos  snapshot.cpp:265 validate',
  ];
}
