import { HttpApi, SwitchboardClient } from "../core/index.ts";

// Placeholder until the browser app lands.
const client = new SwitchboardClient({ url: "", http: new HttpApi("") });
client.start();
