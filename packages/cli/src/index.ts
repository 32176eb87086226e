/**
 * @chainlog/cli: the `verify-log` and `chainlog` commands. The executables are
 * bin/verify-log.js and bin/chainlog.js; these exports run the same commands
 * from code (they set process.exitCode and write to stdout and stderr).
 */
export { main as chainlogMain } from './chainlog'
export { EXIT_BROKEN, EXIT_OK, EXIT_UNUSABLE } from './exit'
export { main as verifyLogMain } from './verify-log'
