import type { ErrorBody } from "../../protocol/index.ts";
import { PASSWORD_MAX, PASSWORD_MIN } from "../../protocol/index.ts";
import { ApiError } from "../core/index.ts";

/** A sentence a person can act on, for an error from the HTTP API or the network. */
export function authErrorText(error: unknown, mode: "login" | "register"): string {
  if (!(error instanceof ApiError)) {
    return "Can't reach the server. Check your connection and try again.";
  }
  switch (error.code) {
    case "invalid_credentials":
      return "Wrong username or password.";
    case "username_taken":
      return "That username is taken. Pick another one, or log in.";
    case "invalid_input":
      return mode === "register"
        ? `Usernames are 3–32 letters, digits, "-" or "_"; passwords ${PASSWORD_MIN}–${PASSWORD_MAX} characters.`
        : "Enter your username and password.";
    case "rate_limited":
      return "Too many attempts. Wait a minute, then try again.";
    case "forbidden_origin":
      return "The server does not accept requests from this address.";
    case "unavailable":
      return "The server is having trouble right now. Try again in a moment.";
    default:
      return error.message;
  }
}

/** Why a message could not be sent, for the failed entry in the message list. */
export function sendErrorText(error: ErrorBody | undefined): string {
  if (error === undefined) return "Not sent.";
  if (error.code === "not_in_room") return "Not sent: you are not in this room any more.";
  if (error.code === "resend_expired") {
    return "Maybe not sent: it waited too long to tell. Check the room, and send it again if it is missing.";
  }
  // The server's messages for refusals are written for people ("messages are at most 2000 characters").
  return `Not sent: ${error.message}.`;
}
