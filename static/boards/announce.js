// Live posts and comments are announced politely and never take the focus: one
// visually hidden status region per page, and a burst of arrivals is said once.
const SETTLE_MS = 1500;

const region = document.createElement("p");
region.className = "visually-hidden";
region.setAttribute("role", "status");
region.setAttribute("aria-live", "polite");
region.dataset.liveAnnounce = "";
(document.getElementById("main") || document.body).append(region);

const me = document.querySelector("[data-username]")?.textContent.trim();
let waiting = { post: 0, comment: 0 };
let timer = null;

const said = (n, word) => (n === 1 ? `A new ${word}` : `${n} new ${word}s`);

// Count an item that arrived live; what this visitor wrote is not announced back.
export function announceArrival(kind, author) {
  if (author && author === me) return;
  waiting[kind] += 1;
  clearTimeout(timer);
  timer = setTimeout(() => {
    const parts = [];
    if (waiting.post) parts.push(said(waiting.post, "post"));
    if (waiting.comment) parts.push(said(waiting.comment, "comment"));
    waiting = { post: 0, comment: 0 };
    region.textContent = `${parts.join(" and ")} arrived.`;
  }, SETTLE_MS);
}
