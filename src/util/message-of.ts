/** An error's message for a log or error line: catch clauses give `unknown`, and a thrown non-Error must not print "undefined". */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  return String(error);
}
