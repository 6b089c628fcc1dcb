import { errorStack, errorText, isInstance } from './error-text.js';
import { UserError } from './handler.js';
import type { Logger } from './logger.js';

/** What a client is told when a handler throws something other than a {@link UserError}. */
export const INTERNAL_HANDLER_ERROR = 'internal error in handler';

/**
 * Logs a failed handler call (or a result the server refused) with its topic and
 * event, and returns the text for the client: a {@link UserError}'s message verbatim,
 * otherwise a generic one, the details staying in the log with the stack.
 */
export function reportHandlerFailure(logger: Logger, topic: string, event: string, error: unknown): string {
  const message = errorText(error);
  const where = `topic "${topic}", event "${event}"`;
  if (isInstance(error, UserError)) {
    logger.warn(`handler failed: ${where}: ${message}`);
    return message;
  }
  const stack = errorStack(error);
  logger.error(`handler threw: ${where}: ${message}${stack === undefined ? '' : `\n${stack}`}`);
  return INTERNAL_HANDLER_ERROR;
}
