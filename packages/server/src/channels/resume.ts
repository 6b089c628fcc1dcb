import type { Position } from '../storage/storage.js';
import type { Payload } from '../transport/serializer.js';

const RESUME_PARAM = 'lvs_resume';

/**
 * Splits a join's params into what `authorize` and `init` see and the `lvs_resume`
 * position (protocol.md §4), which handlers never see. A malformed position is
 * dropped: the join then gets the whole state, as a fresh one does.
 */
export function takeResume(joinParams: Payload): { params: Payload; resume: Position | undefined } {
  if (!Object.hasOwn(joinParams, RESUME_PARAM)) return { params: joinParams, resume: undefined };
  const { [RESUME_PARAM]: resume, ...params } = joinParams;
  return { params, resume: isPosition(resume) ? { epoch: resume.epoch, version: resume.version } : undefined };
}

function isPosition(value: unknown): value is Position {
  if (typeof value !== 'object' || value === null) return false;
  const { epoch, version } = value as Record<string, unknown>;
  return typeof epoch === 'string' && epoch !== '' && Number.isSafeInteger(version) && (version as number) >= 0;
}
