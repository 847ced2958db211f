import { HttpApi } from "../core/index.ts";
import { el, listen, replaceChildren } from "./dom.ts";
import { mountChat } from "./views/chat.ts";
import { authCard, mountLogin } from "./views/login.ts";

/** The page: GET /api/session decides between the login form and the chat. */
const root = document.getElementById("app");
if (root === null) throw new Error("#app is missing from index.html");
const app: HTMLElement = root;
const http = new HttpApi("");
let unmount: () => void = () => undefined;

function showLogin(notice?: string): void {
  unmount();
  unmount = mountLogin(app, {
    http,
    ...(notice === undefined ? {} : { notice }),
    onLoggedIn: showChat,
  });
}

function showChat(user: string): void {
  unmount();
  unmount = mountChat(app, { http, user, onLoggedOut: showLogin });
}

function showUnreachable(): void {
  unmount();
  const retry = el("button", { class: "primary", attrs: { type: "button" } }, "Try again");
  replaceChildren(
    app,
    authCard(
      el("p", { class: "form-error", attrs: { role: "alert" } }, "Can't reach the server."),
      retry,
    ),
  );
  const off = listen(retry, "click", () => void start());
  unmount = off;
}

async function start(): Promise<void> {
  let session: Awaited<ReturnType<HttpApi["session"]>>;
  try {
    session = await http.session();
  } catch {
    showUnreachable();
    return;
  }
  if (session === undefined) showLogin();
  else showChat(session.user.name);
}

void start();
