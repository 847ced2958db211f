import type { Message } from "../../../protocol/index.ts";
import type { OutboxEntry, RoomView } from "../../core/index.ts";
import { el, listen, replaceChildren, show } from "../dom.ts";
import { sendErrorText } from "../errors.ts";
import { clockTime, dayLabel, fullTime, sameDay } from "../format.ts";
import { linkified } from "../links.ts";

/** Messages closer together than this, from the same person, share one header. */
const GROUP_MS = 5 * 60_000;
/** Within this many pixels of the bottom, new messages keep the list scrolled down. */
const STICK_PX = 80;
/** Within this many pixels of the top, scrolling up loads older messages. */
const OLDER_PX = 120;

export type OlderState = "more" | "loading" | "none" | "error";

export interface MessageListHandlers {
  loadOlder: () => void;
  discard: (clientId: string) => void;
  edit: (entry: OutboxEntry) => void;
  retry: (entry: OutboxEntry) => void;
}

/**
 * The scrolling list of one room: older control, messages, then the outbox
 * entries. It opens at the newest message and stays there while new ones
 * arrive, unless the person scrolled up: then a button offers to jump down.
 */
export class MessageList {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly list = el("ol", "messages");
  private readonly pending = el("ol", "messages outbox");
  private readonly empty = el("p", "empty", "No messages yet. Say hello!");
  private readonly olderButton = el("button", { class: "link", attrs: { type: "button" } });
  private readonly olderNote = el("p", "older-note");
  private readonly jump = el("button", { class: "jump primary", attrs: { type: "button" } });
  /** What a screen reader hears of new messages from others in the open room. */
  private readonly announcer = el("p", {
    class: "visually-hidden",
    attrs: { "aria-live": "polite", "aria-atomic": "false" },
  });
  private olderState: OlderState = "none";
  private unseen = 0;
  private last: Message | undefined;

  constructor(
    private readonly self: string,
    private readonly handlers: MessageListHandlers,
  ) {
    this.scroller = el(
      "div",
      { class: "scroller", attrs: { tabindex: "0", role: "region", "aria-label": "Messages" } },
      el("div", "older", this.olderButton, this.olderNote),
      this.empty,
      this.list,
      this.pending,
    );
    show(this.jump, false);
    this.element = el("div", "message-pane", this.scroller, this.jump, this.announcer);
    listen(this.olderButton, "click", () => this.handlers.loadOlder());
    listen(this.jump, "click", () => {
      this.scrollToBottom();
      this.setUnseen(0);
    });
    listen(this.scroller, "scroll", () => this.onScroll());
  }

  /** Renders a room from scratch, scrolled to the newest message; `unread` marks where the new ones start. */
  showRoom(view: RoomView, outbox: OutboxEntry[], unread = 0): void {
    this.renderMessages(view.messages, unread);
    this.setOutbox(outbox);
    this.setOlder(this.olderStateOf(view));
    this.announcer.textContent = "";
    this.setUnseen(0);
    this.scrollToBottom();
  }

  /** Re-renders after older messages were prepended, keeping what the person was looking at. */
  refresh(view: RoomView, older: OlderState = this.olderStateOf(view)): void {
    const divider = this.list.querySelector(".unread-divider");
    const firstUnread = divider?.nextElementSibling?.getAttribute("data-offset");
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    const keep = typeof firstUnread === "string" ? Number(firstUnread) : undefined;
    this.renderMessages(view.messages, 0, keep);
    this.setOlder(older);
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  append(messages: Message[]): void {
    if (messages.length === 0) return;
    const stick = this.nearBottom() || messages.some((message) => message.user === this.self);
    for (const message of messages) this.appendItem(message);
    show(this.empty, false);
    const others = messages.filter((message) => message.user !== this.self);
    const newest = others.at(-1);
    if (newest !== undefined) {
      this.announcer.textContent = `${newest.user}: ${newest.text.slice(0, 200)}`;
    }
    if (stick) this.scrollToBottom();
    else this.setUnseen(this.unseen + others.length);
  }

  setOutbox(entries: OutboxEntry[]): void {
    const stick = this.nearBottom();
    replaceChildren(this.pending, ...entries.map((entry) => this.outboxItem(entry)));
    show(this.pending, entries.length > 0);
    if (stick || entries.some((entry) => entry.status === "sending")) this.scrollToBottom();
  }

  setOlder(state: OlderState): void {
    this.olderState = state;
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

  private onScroll(): void {
    if (this.nearBottom()) this.setUnseen(0);
    // Only a scroll the person made can reach the top: a room opens at its bottom.
    if (this.olderState === "more" && this.scroller.scrollTop < OLDER_PX) this.handlers.loadOlder();
  }

  private setUnseen(count: number): void {
    this.unseen = count;
    show(this.jump, count > 0);
    this.jump.textContent = count === 1 ? "1 new message ↓" : `${count} new messages ↓`;
  }

  /**
   * `unread` counts from the end (when a room is opened); `firstUnreadOffset`
   * keeps the divider where it was (when older messages come in above it).
   */
  private renderMessages(messages: Message[], unread: number, firstUnreadOffset?: number): void {
    this.last = undefined;
    this.list.replaceChildren();
    let from = firstUnreadOffset;
    if (from === undefined && unread > 0) {
      const others = messages.filter((message) => message.user !== this.self);
      from = others[Math.max(0, others.length - unread)]?.offset;
    }
    for (const message of messages) {
      if (message.offset === from) {
        this.list.append(el("li", "unread-divider", el("span", "", "New")));
      }
      this.appendItem(message);
    }
    show(this.empty, messages.length === 0);
  }

  private appendItem(message: Message): void {
    const previous = this.last;
    if (previous === undefined || !sameDay(previous.ts, message.ts)) {
      this.list.append(el("li", "day-divider", dayLabel(message.ts)));
    }
    this.list.append(this.item(message, previous));
    this.last = message;
  }

  private item(message: Message, previous: Message | undefined): HTMLLIElement {
    const own = message.user === this.self;
    const grouped =
      previous !== undefined &&
      previous.user === message.user &&
      message.ts - previous.ts < GROUP_MS &&
      sameDay(previous.ts, message.ts);
    const time = el(
      "time",
      { attrs: { datetime: new Date(message.ts).toISOString(), title: fullTime(message.ts) } },
      clockTime(message.ts),
    );
    return el(
      "li",
      {
        class: `message${own ? " own" : ""}${grouped ? " grouped" : ""}`,
        attrs: { "data-offset": String(message.offset) },
      },
      el("div", "meta", el("span", "author", message.user), time),
      el("div", "text", ...linkified(message.text)),
    );
  }

  private outboxItem(entry: OutboxEntry): HTMLLIElement {
    if (entry.status === "sending") {
      return el(
        "li",
        "message own pending",
        el("div", "meta", el("span", "author", this.self), el("span", "state", "◷ sending…")),
        el("div", "text", entry.text),
      );
    }
    const retry = el("button", { class: "link", attrs: { type: "button" } }, "Retry");
    const edit = el("button", { class: "link", attrs: { type: "button" } }, "Edit");
    const discard = el("button", { class: "link", attrs: { type: "button" } }, "Discard");
    listen(retry, "click", () => this.handlers.retry(entry));
    listen(discard, "click", () => this.handlers.discard(entry.clientId));
    listen(edit, "click", () => this.handlers.edit(entry));
    // Refused for what it says (too long, not valid): sending it again as it is cannot help.
    const code = entry.error?.code;
    show(
      retry,
      code !== "message_too_long" && code !== "invalid_input" && code !== "payload_too_large",
    );
    return el(
      "li",
      "message own failed",
      el("div", "meta", el("span", "author", this.self), el("span", "state", "⚠ not sent")),
      el("div", "text", entry.text),
      el(
        "div",
        "failure",
        el("span", { class: "reason", attrs: { role: "alert" } }, sendErrorText(entry.error)),
        retry,
        edit,
        discard,
      ),
    );
  }

  private nearBottom(): boolean {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < STICK_PX;
  }

  private scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
