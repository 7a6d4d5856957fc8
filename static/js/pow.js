// Solve a proof-of-work challenge off the main thread.
const WORKER_URL = new URL("./pow-worker.js", import.meta.url);

export function solve(challenge, difficulty) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    worker.onmessage = (event) => {
      worker.terminate();
      resolve(event.data.nonce);
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "proof-of-work worker failed"));
    };
    worker.postMessage({ challenge, difficulty });
  });
}
