// The live feed socket: joins topics, rooms or home, and reconnects with backoff.
const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

export class LiveFeed {
  constructor({ onEvent, statusElement }) {
    this.onEvent = onEvent;
    this.status = statusElement;
    this.joined = [];
    this.delay = MIN_DELAY_MS;
    this.socket = null;
    this.stopped = false;
  }

  join(payload) {
    this.joined.push(payload);
    this.send("topic:join", payload);
  }

  start() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // Only the path goes to the server: never the page URL (its fragment holds room keys).
    const socket = new WebSocket(`${scheme}//${location.host}/ws/feed/`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = MIN_DELAY_MS;
      for (const payload of this.joined) this.send("topic:join", payload);
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.event === "topic:joined") this.setStatus("Live", "ok");
      this.onEvent(frame.event, frame.payload || {});
    });
    socket.addEventListener("close", () => {
      this.socket = null;
      if (this.stopped) return;
      const wait = this.delay + Math.floor(Math.random() * 500);
      this.setStatus(`Live updates paused. Reconnecting in ${Math.round(wait / 1000)} s…`, "error");
      setTimeout(() => this.start(), wait);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    });
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
