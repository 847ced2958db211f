import { PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN } from "../../../protocol/index.ts";
import type { HttpApi } from "../../core/index.ts";
import { el, listen, replaceChildren, show } from "../dom.ts";
import { authErrorText } from "../errors.ts";

type Mode = "login" | "register";

export interface LoginViewOptions {
  http: HttpApi;
  /** Shown above the form, e.g. why the person is seeing it again. */
  notice?: string;
  onLoggedIn: (user: string) => void;
}

const LABELS: Record<Mode, { tab: string; submit: string; busy: string }> = {
  login: { tab: "Log in", submit: "Log in", busy: "Logging in…" },
  register: { tab: "Create account", submit: "Create account", busy: "Creating account…" },
};

/** Checks what the server would refuse, so the person hears it before a round trip. */
function localProblem(mode: Mode, username: string, password: string): string | undefined {
  if (username === "" || password === "") return "Enter a username and a password.";
  if (mode === "login") return undefined;
  if (!USERNAME_PATTERN.test(username)) {
    return 'Usernames are 3–32 characters: letters, digits, "-" and "_".';
  }
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    return `Passwords are ${PASSWORD_MIN}–${PASSWORD_MAX} characters long.`;
  }
  return undefined;
}

/** The login and register form. Returns the function that takes it down. */
/** The card of the logged-out pages: the brand, then `children`. */
export function authCard(...children: HTMLElement[]): HTMLElement {
  return el(
    "section",
    "auth",
    el(
      "div",
      "auth-card",
      el(
        "h1",
        "brand",
        el("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }, "⇄"),
        "Switchboard",
      ),
      ...children,
    ),
  );
}

export function mountLogin(root: HTMLElement, options: LoginViewOptions): () => void {
  let mode: Mode = "login";
  let busy = false;
  let mounted = true;

  const tabs = (["login", "register"] as const).map((m) =>
    el("button", { class: "tab", attrs: { type: "button", role: "tab" } }, LABELS[m].tab),
  );
  const username = el("input", {
    attrs: { id: "username", name: "username", autocomplete: "username", maxlength: "32" },
  });
  const password = el("input", {
    attrs: { id: "password", name: "password", type: "password", maxlength: String(PASSWORD_MAX) },
  });
  const hint = el(
    "p",
    "hint",
    `Usernames: 3–32 letters, digits, "-" or "_". Passwords: at least ${PASSWORD_MIN} characters.`,
  );
  const error = el("p", { class: "form-error", attrs: { role: "alert" } });
  const submit = el("button", { class: "primary", attrs: { type: "submit" } });
  const form = el(
    "form",
    { class: "auth-form", attrs: { novalidate: "" } },
    el("label", { attrs: { for: "username" } }, "Username"),
    username,
    el("label", { attrs: { for: "password" } }, "Password"),
    password,
    hint,
    error,
    submit,
  );
  const notice = el("p", "notice", options.notice);
  show(notice, options.notice !== undefined);

  replaceChildren(
    root,
    authCard(
      el("p", "tagline", "Real-time chat that stays connected."),
      notice,
      el("div", { class: "tabs", attrs: { role: "tablist" } }, ...tabs),
      form,
    ),
  );

  const render = () => {
    tabs.forEach((tab, index) => {
      tab.setAttribute("aria-selected", String((index === 0) === (mode === "login")));
    });
    password.autocomplete = mode === "login" ? "current-password" : "new-password";
    submit.textContent = busy ? LABELS[mode].busy : LABELS[mode].submit;
    submit.disabled = busy;
    show(hint, mode === "register");
  };
  const setError = (text: string) => {
    error.textContent = text;
  };
  // A notice (why the person is here again) is about what happened before: it goes
  // once the person does something new, so it never stands beside a new error.
  const dismissNotice = () => show(notice, false);

  const offs = tabs.map((tab, index) =>
    listen(tab, "click", () => {
      mode = index === 0 ? "login" : "register";
      dismissNotice();
      setError("");
      render();
      username.focus();
    }),
  );
  offs.push(
    listen(form, "submit", (event) => {
      event.preventDefault();
      if (busy) return;
      dismissNotice();
      const name = username.value.trim();
      const problem = localProblem(mode, name, password.value);
      if (problem !== undefined) {
        setError(problem);
        return;
      }
      busy = true;
      setError("");
      render();
      const request =
        mode === "login"
          ? options.http.login(name, password.value)
          : options.http.register(name, password.value);
      request.then(
        (response) => {
          if (mounted) options.onLoggedIn(response.user.name);
        },
        (failure: unknown) => {
          if (!mounted) return;
          busy = false;
          setError(authErrorText(failure, mode));
          render();
          if (mode === "login") password.select();
        },
      );
    }),
  );

  // Logged in meanwhile in another tab: go straight to the chat.
  offs.push(
    listen(document, "visibilitychange", () => {
      if (document.visibilityState !== "visible" || busy) return;
      options.http.session().then(
        (session) => {
          if (session !== undefined && mounted && !busy) options.onLoggedIn(session.user.name);
        },
        () => undefined,
      );
    }),
  );

  render();
  username.focus();
  return () => {
    mounted = false;
    for (const off of offs) off();
  };
}
