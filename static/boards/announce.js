// Live posts and comments are announced politely and never take the focus: one
// visually hidden status region per page, and a burst of arrivals is said once.
import { nt, t } from "../js/i18n.js";

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

// Count an item that arrived live; what this visitor wrote is not announced back.
export function announceArrival(kind, author) {
  if (author && author === me) return;
  waiting[kind] += 1;
  clearTimeout(timer);
  timer = setTimeout(() => {
    const { post, comment } = waiting;
    waiting = { post: 0, comment: 0 };
    // Whole sentences: the counts and their words agree in every language.
    if (post && comment) {
      region.textContent = t("%(posts)s and %(comments)s arrived.", {
        posts: nt("a new post", "%(count)s new posts", post),
        comments: nt("a new comment", "%(count)s new comments", comment),
      });
    } else if (post) {
      region.textContent = nt("A new post arrived.", "%(count)s new posts arrived.", post);
    } else {
      region.textContent = nt("A new comment arrived.", "%(count)s new comments arrived.", comment);
    }
  }, SETTLE_MS);
}
