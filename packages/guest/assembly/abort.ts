import { Host, LogLevel } from '@extism/as-pdk';

/**
 * AssemblyScript's `abort` (a failed assertion, an out-of-bounds access, an
 * explicit `throw`) routed to the host's log before trapping: the Extism host
 * provides no `env.abort`. Build with `--use abort=~lib/@livestate/guest/assembly/abort/livestateAbort`.
 */
export function livestateAbort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  const text = (message !== null ? message : 'abort') + (fileName !== null ? ` at ${fileName}:${line}:${column}` : '');
  Host.log(LogLevel.Error, text);
  unreachable();
}
