import { DEFAULT_ROOM, ROOM_PATTERN } from "../../../protocol/index.ts";
import { el, listen, replaceChildren } from "../dom.ts";

export interface RoomListHandlers {
  select: (room: string) => void;
  /** Joins (or creates) a room; resolves with an error text when that failed. */
  join: (room: string) => Promise<string | undefined>;
  leave: (room: string) => void;
}

/** "#Random " → "random": people type room names loosely; the pattern is strict. */
export function normalizeRoom(input: string): string {
  return input.trim().replace(/^#/, "").toLowerCase();
}

/** The rooms joined, with unread counts, and the field to join or create one. */
export class RoomList {
  readonly element: HTMLElement;
  private readonly list = el("ul", "room-list");
  private readonly input = el("input", {
    attrs: {
      id: "join-room",
      name: "room",
      placeholder: "room-name",
      maxlength: "65",
      autocomplete: "off",
      spellcheck: "false",
    },
  });
  private readonly error = el("p", { class: "form-error", attrs: { role: "alert" } });
  private readonly button = el("button", { attrs: { type: "submit" } }, "Join");

  constructor(private readonly handlers: RoomListHandlers) {
    const form = el(
      "form",
      { class: "join-form", attrs: { novalidate: "" } },
      el("label", { attrs: { for: "join-room" } }, "Join or create a room"),
      el("div", "join-row", this.input, this.button),
      this.error,
    );
    this.element = el(
      "nav",
      { class: "rooms", attrs: { "aria-label": "Rooms" } },
      el("h2", "panel-title", "Rooms"),
      this.list,
      form,
    );
    listen(form, "submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    listen(this.input, "input", () => {
      this.error.textContent = "";
    });
  }

  render(rooms: string[], current: string, unread: ReadonlyMap<string, number>): void {
    replaceChildren(
      this.list,
      ...rooms.map((room) => {
        const count = unread.get(room) ?? 0;
        const open = el(
          "button",
          {
            class: "room-button",
            attrs: { type: "button", ...(room === current ? { "aria-current": "true" } : {}) },
          },
          el("span", "hash", "#"),
          el("span", "room-name", room),
          count > 0 && el("span", { class: "badge", attrs: { title: "unread" } }, String(count)),
        );
        listen(open, "click", () => this.handlers.select(room));
        let leave: HTMLButtonElement | undefined;
        if (room !== DEFAULT_ROOM) {
          leave = el(
            "button",
            {
              class: "leave",
              attrs: { type: "button", "aria-label": `Leave #${room}`, title: "Leave" },
            },
            "×",
          );
          listen(leave, "click", () => this.handlers.leave(room));
        }
        return el("li", room === current ? "room-item current" : "room-item", open, leave);
      }),
    );
  }

  private async submit(): Promise<void> {
    const room = normalizeRoom(this.input.value);
    if (!ROOM_PATTERN.test(room)) {
      this.error.textContent =
        room === ""
          ? "Type a room name."
          : 'Room names are 1–64 characters: a–z, 0–9, "-" and "_".';
      return;
    }
    this.button.disabled = true;
    try {
      const problem = await this.handlers.join(room);
      this.error.textContent = problem ?? "";
      if (problem === undefined) this.input.value = "";
    } finally {
      this.button.disabled = false;
    }
  }
}
