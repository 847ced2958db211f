import type { Message } from "../../../protocol/index.ts";
import type { OutboxEntry, RoomView } from "../../core/index.ts";
import { el, listen, replaceChildren, show } from "../dom.ts";
import { sendErrorText } from "../errors.ts";
import { clockTime, fullTime } from "../format.ts";

/** Messages closer together than this, from the same person, share one header. */
const GROUP_MS = 5 * 60_000;
/** Within this many pixels of the bottom, new messages keep the list scrolled down. */
const STICK_PX = 80;

export type OlderState = "more" | "loading" | "none" | "error";

export interface MessageListHandlers {
  loadOlder: () => void;
  discard: (clientId: string) => void;
  edit: (entry: OutboxEntry) => void;
}

/** The scrolling list of one room: older control, messages, then the outbox entries. */
export class MessageList {
  readonly element: HTMLElement;
  private readonly list = el("ol", { class: "messages", attrs: { "aria-live": "polite" } });
  private readonly pending = el("ol", "messages outbox");
  private readonly empty = el("p", "empty", "No messages yet. Say hello!");
  private readonly olderButton = el("button", { class: "link", attrs: { type: "button" } });
  private readonly olderNote = el("p", "older-note");
  private last: Message | undefined;

  constructor(
    private readonly self: string,
    private readonly handlers: MessageListHandlers,
  ) {
    this.element = el(
      "div",
      { class: "scroller", attrs: { tabindex: "0", "aria-label": "Messages" } },
      el("div", "older", this.olderButton, this.olderNote),
      this.empty,
      this.list,
      this.pending,
    );
    listen(this.olderButton, "click", () => this.handlers.loadOlder());
  }

  /** Renders a room from scratch, scrolled to the newest message. */
  showRoom(view: RoomView, outbox: OutboxEntry[]): void {
    this.renderMessages(view.messages);
    this.setOutbox(outbox);
    this.setOlder(this.olderStateOf(view));
    this.scrollToBottom();
  }

  /** Re-renders after older messages were prepended, keeping what the person was looking at. */
  refresh(view: RoomView, older: OlderState = this.olderStateOf(view)): void {
    const fromBottom = this.element.scrollHeight - this.element.scrollTop;
    this.renderMessages(view.messages);
    this.setOlder(older);
    this.element.scrollTop = this.element.scrollHeight - fromBottom;
  }

  append(messages: Message[]): void {
    if (messages.length === 0) return;
    const stick = this.nearBottom() || messages.some((message) => message.user === this.self);
    for (const message of messages) this.list.append(this.item(message));
    show(this.empty, false);
    if (stick) this.scrollToBottom();
  }

  setOutbox(entries: OutboxEntry[]): void {
    const stick = this.nearBottom();
    replaceChildren(this.pending, ...entries.map((entry) => this.outboxItem(entry)));
    show(this.pending, entries.length > 0);
    if (stick || entries.some((entry) => entry.status === "sending")) this.scrollToBottom();
  }

  setOlder(state: OlderState): void {
    show(this.olderButton, state === "more" || state === "loading" || state === "error");
    this.olderButton.disabled = state === "loading";
    this.olderButton.textContent =
      state === "loading"
        ? "Loading…"
        : state === "error"
          ? "Couldn't load older messages. Try again"
          : "Load older messages";
    show(this.olderNote, state === "none" && this.list.childElementCount > 0);
    this.olderNote.textContent = "This is the beginning of the room.";
  }

  olderStateOf(view: RoomView): OlderState {
    const first = view.messages[0];
    return first === undefined || first.offset <= 1 ? "none" : "more";
  }

  private renderMessages(messages: Message[]): void {
    this.last = undefined;
    replaceChildren(this.list, ...messages.map((message) => this.item(message)));
    show(this.empty, messages.length === 0);
  }

  private item(message: Message): HTMLLIElement {
    const own = message.user === this.self;
    const previous = this.last;
    const grouped =
      previous !== undefined &&
      previous.user === message.user &&
      message.ts - previous.ts < GROUP_MS &&
      new Date(message.ts).getDate() === new Date(previous.ts).getDate();
    this.last = message;
    const time = el(
      "time",
      { attrs: { datetime: new Date(message.ts).toISOString(), title: fullTime(message.ts) } },
      clockTime(message.ts),
    );
    return el(
      "li",
      `message${own ? " own" : ""}${grouped ? " grouped" : ""}`,
      el("div", "meta", el("span", "author", message.user), time),
      el("div", "text", message.text),
    );
  }

  private outboxItem(entry: OutboxEntry): HTMLLIElement {
    if (entry.status === "sending") {
      return el(
        "li",
        "message own pending",
        el("div", "meta", el("span", "author", this.self), el("span", "state", "sending…")),
        el("div", "text", entry.text),
      );
    }
    const discard = el("button", { class: "link", attrs: { type: "button" } }, "Discard");
    const edit = el("button", { class: "link", attrs: { type: "button" } }, "Edit");
    listen(discard, "click", () => this.handlers.discard(entry.clientId));
    listen(edit, "click", () => this.handlers.edit(entry));
    return el(
      "li",
      "message own failed",
      el("div", "meta", el("span", "author", this.self), el("span", "state", "not sent")),
      el("div", "text", entry.text),
      el(
        "div",
        "failure",
        el("span", { class: "reason", attrs: { role: "alert" } }, sendErrorText(entry.error)),
        edit,
        discard,
      ),
    );
  }

  private nearBottom(): boolean {
    const { scrollHeight, scrollTop, clientHeight } = this.element;
    return scrollHeight - scrollTop - clientHeight < STICK_PX;
  }

  private scrollToBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }
}
