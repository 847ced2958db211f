import { byId } from "./dom.ts";

export interface KillQuestion {
  /** e.g. "Kill i-3f2a1c?": also the dialog's accessible name. */
  title: string;
  text: string;
  run: () => void;
}

/**
 * The one confirm dialog of the page, for every Kill (an instance, a Redis
 * node): it is a crash on purpose, so it asks first, and Cancel has the focus.
 */
export function confirmDialog(): { ask: (question: KillQuestion) => void } {
  const dialog = byId<HTMLDialogElement>("confirm-kill");
  let pending: (() => void) | undefined;
  byId("confirm-cancel").addEventListener("click", () => dialog.close());
  byId("confirm-ok").addEventListener("click", () => {
    const run = pending;
    dialog.close();
    run?.();
  });
  dialog.addEventListener("close", () => {
    pending = undefined;
  });
  return {
    ask(question) {
      pending = question.run;
      byId("confirm-title").textContent = question.title;
      byId("confirm-text").textContent = question.text;
      dialog.showModal();
      byId("confirm-cancel").focus();
    },
  };
}
