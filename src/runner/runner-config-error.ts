/**
 * Bad runner configuration (an unknown runner name, a malformed fault spec,
 * a missing nodeos binary path): the operator must fix it, retrying cannot
 * help. The CLI turns it into a one-line error and a non-zero exit.
 */
export class RunnerConfigError extends Error {
  override readonly name = 'RunnerConfig';
}
