// The live feed socket: joins topics, rooms or home, reconnects with backoff, and
// tells the page each time it is subscribed again so the page can catch up on
// what it missed while the socket was away.
import { liveUrl } from "../js/config.js";
import { nt, pt, t } from "../js/i18n.js";

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const BUSY_MIN_DELAY_MS = 15000; // 4429: this network already holds many sockets
const BUSY_MAX_DELAY_MS = 120000;

// Close codes the server sends (antispam/websocket.py, boards/consumers.py, nullboard/live/hub.py).
export const CLOSE_RESET = 4012; // the server reset our subscriptions: reconnect, catch up
export const CLOSE_STORE_DOWN = 4013; // the store is unavailable: retry soon
export const CLOSE_TOO_MANY = 4429; // too many sockets from this client: retry later
export const CLOSE_REFUSED = 4403; // this page may not hold a live socket: retrying will not help

// How the page answers each close: ``backoff`` is "reset" (at once: the server
// dropped our subscriptions, a catch-up follows), "normal" (1 s doubling to 30 s),
// "busy" (15 s doubling to 2 min) or "none" (stop: reload to try again).
// A code not listed, and 1006 (no close frame: the network or the server went
// away), is "normal"; a socket that never opened says it could not connect (a
// handshake refusal, such as another origin's, reaches a page only as that).
// The texts are whole sentences with the seconds as %(count)s (plural forms).
const CLOSES = {
  1000: {
    backoff: "normal",
    text: (s) =>
      nt(
        "Live updates paused: the server closed the connection. Reconnecting in %(count)s second…",
        "Live updates paused: the server closed the connection. Reconnecting in %(count)s seconds…",
        s,
      ),
  },
  1001: {
    backoff: "normal",
    text: (s) =>
      nt(
        "Live updates paused: the server is restarting. Reconnecting in %(count)s second…",
        "Live updates paused: the server is restarting. Reconnecting in %(count)s seconds…",
        s,
      ),
  },
  1011: {
    backoff: "normal",
    text: (s) =>
      nt(
        "Live updates paused: something went wrong on our side. Retrying in %(count)s second…",
        "Live updates paused: something went wrong on our side. Retrying in %(count)s seconds…",
        s,
      ),
  },
  1012: {
    backoff: "normal",
    text: (s) =>
      nt(
        "Live updates paused: the server is restarting. Reconnecting in %(count)s second…",
        "Live updates paused: the server is restarting. Reconnecting in %(count)s seconds…",
        s,
      ),
  },
  1013: {
    backoff: "normal",
    text: (s) =>
      nt(
        "Live updates paused: the server is busy. Retrying in %(count)s second…",
        "Live updates paused: the server is busy. Retrying in %(count)s seconds…",
        s,
      ),
  },
  [CLOSE_RESET]: {
    backoff: "reset",
    text: () => t("Live updates paused: the server reset the connection. Reconnecting…"),
  },
  [CLOSE_STORE_DOWN]: {
    backoff: "normal",
    text: (s) =>
      nt(
        "Live updates paused: the server's storage is unavailable. Retrying in %(count)s second…",
        "Live updates paused: the server's storage is unavailable. Retrying in %(count)s seconds…",
        s,
      ),
  },
  [CLOSE_TOO_MANY]: {
    backoff: "busy",
    text: (s) =>
      nt(
        "Live updates paused: too many live connections from your network. Retrying in %(count)s second…",
        "Live updates paused: too many live connections from your network. Retrying in %(count)s seconds…",
        s,
      ),
  },
  [CLOSE_REFUSED]: {
    backoff: "none",
    text: () => t("Live updates are off: the server refused this page's connection. Reload the page to try again."),
  },
};
const LOST = {
  backoff: "normal",
  text: (s) =>
    nt(
      "Live updates paused. Reconnecting in %(count)s second…",
      "Live updates paused. Reconnecting in %(count)s seconds…",
      s,
    ),
};
const UNREACHABLE = {
  backoff: "normal",
  text: (s) =>
    nt(
      "Live updates paused: could not connect to the server. Retrying in %(count)s second…",
      "Live updates paused: could not connect to the server. Retrying in %(count)s seconds…",
      s,
    ),
};

export class LiveFeed {
  constructor({ onEvent, onJoined, statusElement }) {
    this.onEvent = onEvent;
    this.onJoined = onJoined || (() => {});
    this.status = statusElement;
    this.joined = [];
    this.delay = MIN_DELAY_MS;
    this.busyDelay = BUSY_MIN_DELAY_MS;
    this.socket = null;
    this.stopped = false;
  }

  join(payload) {
    this.joined.push(payload);
    this.send("topic:join", payload);
  }

  start() {
    if (this.status?.dataset.state === "error") this.setStatus(t("Live updates paused. Reconnecting…"), "error");
    else if (this.status?.dataset.state !== "ok") this.setStatus(t("Connecting…"), "connecting");
    // Only the path goes to the server: never the page URL (its fragment holds room keys).
    const socket = new WebSocket(liveUrl());
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      for (const payload of this.joined) this.send("topic:join", payload);
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.event === "topic:joined") {
        // Subscribed: only now is the connection good, so only now reset the backoff.
        this.delay = MIN_DELAY_MS;
        this.busyDelay = BUSY_MIN_DELAY_MS;
        this.setStatus(pt("live status", "Live"), "ok");
        this.onJoined(frame.payload || {});
      }
      this.onEvent(frame.event, frame.payload || {});
    });
    socket.addEventListener("close", (event) => {
      if (this.socket === socket) this.socket = null;
      // A code the server chose says it all; without one (1006), a socket that never
      // opened was refused or could not reach the server.
      if (!this.stopped) this.retry(CLOSES[event.code] || (opened ? LOST : UNREACHABLE));
    });
  }

  retry({ backoff, text }) {
    let wait;
    if (backoff === "none") {
      this.stopped = true;
      this.setStatus(text(0), "error");
      return;
    } else if (backoff === "reset") {
      wait = MIN_DELAY_MS / 2 + Math.floor(Math.random() * 500);
    } else if (backoff === "busy") {
      wait = this.busyDelay + Math.floor(Math.random() * 2000);
      this.busyDelay = Math.min(this.busyDelay * 2, BUSY_MAX_DELAY_MS);
    } else {
      wait = this.delay + Math.floor(Math.random() * 500);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    }
    this.countdown(wait, text);
    setTimeout(() => this.start(), wait);
  }

  // Keep the "retrying in N s" figure honest while we wait.
  countdown(wait, text) {
    const until = Date.now() + wait;
    const tick = () => {
      if (this.socket) return; // already reconnecting: never write over what it says
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      this.setStatus(text(left), "error");
      if (left > 0) setTimeout(tick, 1000);
    };
    tick();
  }

  // For good: no reconnect after this.
  stop() {
    this.stopped = true;
    this.socket?.close();
  }

  send(event, payload) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ event, payload }));
    }
  }

  setStatus(text, kind) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.dataset.state = kind;
    this.status.classList.toggle("paused", kind === "error");
  }
}

const CATCH_UP_RETRY_MS = 2000;

// One catch-up at a time: a request during one makes it run once more after it.
// fetchMissed reads what the page missed; a failure that failed() does not settle
// (it rethrows) is retried shortly while the socket lives: the store may be coming back.
export function catchUpRunner(
  fetchMissed,
  {
    ready,
    alive,
    stopped = () => false,
    failed = (error) => {
      throw error;
    },
  },
) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      await ready()?.catch(() => {});
      do {
        again = false;
        if (stopped()) return;
        try {
          await fetchMissed();
        } catch (error) {
          try {
            failed(error);
          } catch {
            setTimeout(() => alive() && run(), CATCH_UP_RETRY_MS);
          }
        }
      } while (again);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  return run;
}
