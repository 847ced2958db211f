import { el, listen } from "../dom.ts";

/** Typing events go out at most this often while someone types. */
const TYPING_EVERY_MS = 1000;

export interface ComposerHandlers {
  send: (text: string) => void;
  typing: () => void;
}

/** The message field: Enter sends, Shift+Enter starts a new line, the length is counted. */
export class Composer {
  readonly element: HTMLFormElement;
  private readonly field = el("textarea", {
    attrs: {
      id: "composer",
      name: "message",
      rows: "1",
      placeholder: "Write a message…",
      "aria-describedby": "composer-counter",
    },
  });
  private readonly counter = el("span", {
    class: "counter",
    attrs: { id: "composer-counter", "aria-live": "polite" },
  });
  private readonly button = el("button", { class: "primary", attrs: { type: "submit" } }, "Send");
  private readonly drafts = new Map<string, string>();
  private room = "";
  private lastTyping = 0;

  constructor(
    /** Undefined until the server said its limit (in `ready`). */
    private maxLength: number | undefined,
    private readonly handlers: ComposerHandlers,
  ) {
    this.element = el(
      "form",
      "composer",
      el("label", { class: "visually-hidden", attrs: { for: "composer" } }, "Message"),
      this.field,
      this.button,
      this.counter,
    );
    listen(this.element, "submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    listen(this.field, "keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    listen(this.field, "input", () => {
      this.update();
      const now = Date.now();
      if (this.field.value.trim() !== "" && now - this.lastTyping >= TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.handlers.typing();
      }
    });
    this.update();
  }

  /** Switches rooms, keeping each room's unsent draft. */
  setRoom(room: string): void {
    if (this.room !== "") this.drafts.set(this.room, this.field.value);
    this.room = room;
    this.field.value = this.drafts.get(room) ?? "";
    this.field.placeholder = `Message #${room}`;
    this.lastTyping = 0;
    this.update();
  }

  setText(text: string): void {
    this.field.value = text;
    this.update();
    this.focus();
  }

  focus(): void {
    this.field.focus();
  }

  private submit(): void {
    const text = this.field.value;
    if (!this.sendable(text)) return;
    this.handlers.send(text);
    this.field.value = "";
    this.lastTyping = 0;
    this.update();
  }

  /** The server's limit, once it said (on connect). */
  setMaxLength(maxLength: number): void {
    this.maxLength = maxLength;
    this.update();
  }

  private over(text: string): number {
    return this.maxLength === undefined ? 0 : Math.max(0, text.length - this.maxLength);
  }

  private sendable(text: string): boolean {
    return text.trim() !== "" && this.over(text) === 0;
  }

  private update(): void {
    const length = this.field.value.length;
    const over = this.over(this.field.value);
    const max = this.maxLength;
    // Enter does nothing while over the limit: this line is what says why.
    this.counter.textContent =
      over > 0
        ? `${over} ${over === 1 ? "character" : "characters"} over the limit`
        : max === undefined
          ? ""
          : `${length} / ${max}`;
    this.counter.classList.toggle("over", over > 0);
    this.counter.classList.toggle("near", max !== undefined && over === 0 && length > max * 0.9);
    this.field.setAttribute("aria-invalid", String(over > 0));
    this.button.disabled = !this.sendable(this.field.value);
  }
}
