"""The measurement behind docs/security.md "Why Web Crypto, not libsodium".

    .venv/bin/python tests/perf/crypto_choice.py

Packs libsodium-wrappers-sumo (ESM build) with npm into a temporary folder (it is
not vendored: the site does not use it), then, in the system Chromium, times in
one page: loading libsodium, seal + open of a 2 MiB recording with each library,
PBKDF2-SHA256 at 600,000 iterations and Argon2id at two strengths, and checks
what each needs from the CSP. Prints one table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "0.8.4"
CHROMIUM = "/usr/bin/chromium"

BENCH_JS = """
export async function webcrypto() {
  const big = new Uint8Array(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ad = new Uint8Array(16);
  let t = performance.now();
  for (let i = 0; i < 10; i++) {
    const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: ad }, key, big);
    await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: ad }, key, ct);
  }
  const seal = (performance.now() - t) / 10;
  const pw = await crypto.subtle.importKey("raw", new TextEncoder().encode("correct horse"),
    "PBKDF2", false, ["deriveBits"]);
  t = performance.now();
  await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(16),
    iterations: 600000 }, pw, 256);
  return { seal_open_2mib_ms: seal, pbkdf2_600k_ms: performance.now() - t };
}
export async function sodium() {
  let t = performance.now();
  const s = (await import("./libsodium-wrappers.mjs")).default;
  await s.ready;
  const load = performance.now() - t;
  const big = s.randombytes_buf(2 * 1024 * 1024);
  const key = s.randombytes_buf(32);
  const nonce = s.randombytes_buf(24);
  const ad = new Uint8Array(16);
  t = performance.now();
  for (let i = 0; i < 10; i++) {
    const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(big, ad, null, nonce, key);
    s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, ad, nonce, key);
  }
  const seal = (performance.now() - t) / 10;
  const argon = {};
  for (const [ops, mib] of [[2, 64], [3, 256]]) {
    t = performance.now();
    s.crypto_pwhash(32, "correct horse", new Uint8Array(16), ops, mib * 1024 * 1024,
      s.crypto_pwhash_ALG_ARGON2ID13);
    argon[`argon2id_t${ops}_${mib}mib_ms`] = performance.now() - t;
  }
  return { load_ms: load, seal_open_2mib_ms: seal, ...argon };
}
"""


def pack(folder: Path) -> dict[str, bytes]:
    """The two ESM files, the wrapper's import pointed at its sibling."""
    names = [f"libsodium-wrappers-sumo@{VERSION}", f"libsodium-sumo@{VERSION}"]
    subprocess.run(["npm", "pack", *names], cwd=folder, check=True, capture_output=True)
    files = {}
    for tgz in folder.glob("*.tgz"):
        with tarfile.open(tgz) as archive:
            for member in archive.getmembers():
                if "modules-sumo-esm" in member.name and member.name.endswith(".mjs"):
                    files[Path(member.name).name] = archive.extractfile(member).read()
    wrapper = files["libsodium-wrappers.mjs"]
    files["libsodium-wrappers.mjs"] = wrapper.replace(
        b'from"libsodium-sumo"', b'from"./libsodium-sumo.mjs"'
    )
    return files


def run(files: dict[str, bytes], csp: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()

        def handle(route) -> None:
            name = route.request.url.rsplit("/", 1)[1]
            if name == "index.html":
                headers = {"content-type": "text/html", "content-security-policy": csp}
                route.fulfill(body="<!doctype html><p>bench</p>", headers=headers)
            else:
                body = BENCH_JS.encode() if name == "bench.mjs" else files[name]
                route.fulfill(body=body, headers={"content-type": "text/javascript"})

        page.route("https://bench.test/**", handle)
        page.goto("https://bench.test/index.html")
        found = {}
        for name in ("webcrypto", "sodium"):
            try:
                found[name] = page.evaluate(f"async () => (await import('/bench.mjs')).{name}()")
            except Exception as exc:  # noqa: BLE001 - the CSP refusal is the finding
                found[name] = "refused: " + str(exc).splitlines()[0][:120]
        browser.close()
        return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = pack(Path(tmp))
    sizes = {name: len(data) for name, data in files.items()}
    strict = "default-src 'none'; script-src 'self'; connect-src 'self'"
    wasm = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'"
    print(json.dumps({"libsodium_esm_bytes": sizes}, indent=1))
    print("CSP without 'wasm-unsafe-eval':", json.dumps(run(files, strict), indent=1))
    print("CSP with 'wasm-unsafe-eval':", json.dumps(run(files, wasm), indent=1))


if __name__ == "__main__":
    sys.exit(main())
