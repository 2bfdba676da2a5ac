// An echo server for the Autobahn|Testsuite's fuzzingclient (and our own fuzzing client):
//   npm run autobahn:server -- --port 9001
// Every text and binary message is echoed as it came, on any path, with permessage-deflate
// offered (cases 12 and 13) and limits large enough for the 16 MiB cases of category 9. The
// default message rate limit is off: cases 9.3 and 9.4 send 65,536 fragments at full speed, a
// protocol test rather than a flood, and the fuzzing client is the only peer.
import { autobahnEchoHandler } from '../src/cli/echo.js';
import { genericMain } from '../src/index.js';

const deflate = !process.argv.includes('--no-deflate');
await genericMain(autobahnEchoHandler, {
  perMessageDeflate: deflate,
  maxMessageBytes: 64 * 1024 * 1024,
  pingIntervalMs: 0,
  messageRateLimit: false,
});
