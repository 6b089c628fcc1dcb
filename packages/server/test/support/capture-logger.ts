import type { Logger } from '@livestate/server';
import { LineLog } from './line-log.js';

/** A logger that keeps its lines, so tests can wait for one. */
export class CaptureLogger extends LineLog implements Logger {
  info(message: string): void {
    this.add(`info ${message}`);
  }
  warn(message: string): void {
    this.add(`warn ${message}`);
  }
  error(message: string): void {
    this.add(`error ${message}`);
  }
}
