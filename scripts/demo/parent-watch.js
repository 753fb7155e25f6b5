/**
 * Preloaded into the Node-RED process of `npm start` (node --require): when the process that
 * started it goes away without stopping it (killed with SIGKILL, a crashed terminal), Node-RED
 * stops itself instead of living on as an orphan holding the port.
 */
'use strict';

const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(timer);
    // SIGINT: Node-RED's own graceful stop (nodes close, context stores flush).
    process.kill(process.pid, 'SIGINT');
  }
}, 1000);
timer.unref();
