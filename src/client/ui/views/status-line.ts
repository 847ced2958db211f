import type { ConnectionStatus } from "../../core/index.ts";
import { el } from "../dom.ts";
import { describeStatus } from "../format.ts";

/** "Connected to instance i-abc123", "Reconnecting… (attempt 3)", "Offline — 2 messages waiting". */
export class StatusLine {
  readonly element = el("p", { class: "status", attrs: { role: "status" } });
  private readonly dot = el("span", { class: "status-dot", attrs: { "aria-hidden": "true" } });
  private readonly text = el("span", "status-text");

  constructor() {
    this.element.append(this.dot, this.text);
  }

  render(status: ConnectionStatus, waiting: number): void {
    const { text, tone } = describeStatus(status, waiting);
    this.text.textContent = text;
    this.element.dataset.tone = tone;
  }

  /** A problem the status does not cover, such as a failed logout. */
  note(text: string): void {
    this.text.textContent = text;
    this.element.dataset.tone = "bad";
  }
}
