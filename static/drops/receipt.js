// The receipt: a live countdown, and a reload when the drop's time is up.
import { startAll } from "./countdown.js";

startAll(document, () => setTimeout(() => window.location.reload(), 1000));
