// The trending page: each trending topic with its newest posts, decrypted here.
import { url } from "../js/config.js";
import { formatDateTime, t } from "../js/i18n.js";
import { decrypt, topicKey } from "./crypto.js";
import "./sidebar.js";

const data = JSON.parse(document.getElementById("trending-posts")?.textContent || "[]");

async function textOf(post) {
  try {
    return await decrypt(await topicKey(post.topic), post.blob);
  } catch {
    return null;
  }
}

function postItem(post, text) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = url("post", { post_id: post.id });
  link.className = "trending-post";
  link.textContent = text === null ? t("A post that could not be decrypted.") : text;
  const meta = document.createElement("span");
  meta.className = "hint";
  meta.textContent = ` ${post.author} · ${formatDateTime(post.created_at, { hour: "2-digit", minute: "2-digit" })}`;
  li.append(link, meta);
  return li;
}

for (const item of data) {
  const list = document.querySelector(`[data-topic="${CSS.escape(item.topic)}"] [data-topic-posts]`);
  if (!list) continue;
  const rows = await Promise.all(item.posts.map(async (post) => postItem(post, await textOf(post))));
  if (rows.length === 0) {
    const li = document.createElement("li");
    li.className = "hint";
    li.textContent = t("Its posts have expired; only comments keep it here.");
    rows.push(li);
  }
  list.replaceChildren(...rows);
}
