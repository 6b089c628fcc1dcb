import { JSON } from 'json-as';

/** A push sent to the client before the state update; clients dispatch it as a DOM event. */
export class ReplyEvent {
  constructor(
    public name: string,
    /** The detail as JSON text. */
    public detailJson: string,
  ) {}

  static of<D>(name: string, detail: D): ReplyEvent {
    return new ReplyEvent(name, JSON.stringify<D>(detail));
  }
}

/** `events` as the JSON array of an envelope: `[{"name": ..., "detail": ...}]`. */
export function eventsJson(events: ReplyEvent[]): string {
  const parts = new Array<string>(events.length);
  for (let i = 0; i < events.length; i++) {
    parts[i] = '{"name":' + JSON.stringify<string>(events[i].name) + ',"detail":' + events[i].detailJson + '}';
  }
  return '[' + parts.join(',') + ']';
}
