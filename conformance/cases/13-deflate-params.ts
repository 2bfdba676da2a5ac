// Category 13: permessage-deflate parameters (RFC 7692 7.1). Every combination of
// server_no_context_takeover, client_no_context_takeover, server_max_window_bits (absent, 9-15)
// and client_max_window_bits (absent, without value, 9-15). Window 8 is left out: zlib cannot
// produce a raw 256-byte window (it uses 512), which RFC 7692 implementers work around
// differently. Against a server these are our offer; against a client they shape our response.
// The messages repeat 2 KiB and 24 KiB blocks, so a peer that compresses beyond its negotiated
// window, or keeps context it agreed to drop, produces data our inflater rejects.
import { repetitive, binary as randomBytes } from '../lib/payload.js';
import { formatOffer } from '../lib/deflate.js';
import type { Case, DeflateParams, Step } from '../lib/types.js';

const SERVER_BITS: (number | undefined)[] = [undefined, 9, 10, 11, 12, 13, 14, 15];
const CLIENT_BITS: (number | true | undefined)[] = [undefined, true, 9, 10, 11, 12, 13, 14, 15];

function steps(): Step[] {
  const msgs: { opcode: 1 | 2; payload: Buffer }[] = [
    { opcode: 1, payload: repetitive(4096, 2048, 1) },
    { opcode: 2, payload: randomBytes(1000, 2) },
    { opcode: 1, payload: repetitive(4096, 2048, 1) },
    { opcode: 1, payload: repetitive(300, 30, 3) },
    // A 24 KiB block twice: only a 32 KiB window (15 bits) may reach back to the copy.
    { opcode: 1, payload: repetitive(49152, 24576, 4) },
  ];
  return [...msgs.map((m): Step => ({ op: 'sendMessage', opcode: m.opcode, payload: m.payload, compress: true })), { op: 'expectMessages', messages: msgs }];
}

export function deflateParamCases(): Case[] {
  const cases: Case[] = [];
  for (let s = 0; s < 4; s++) {
    let n = 1;
    for (const smwb of SERVER_BITS) {
      for (const cmwb of CLIENT_BITS) {
        const p: DeflateParams = { serverNoContextTakeover: (s & 1) === 1, clientNoContextTakeover: (s & 2) === 2 };
        if (smwb !== undefined) p.serverMaxWindowBits = smwb;
        if (cmwb !== undefined) p.clientMaxWindowBits = cmwb;
        cases.push({ id: `13.${s + 1}.${n++}`, description: `parameters "${formatOffer(p)}"`, steps, deflate: p });
      }
    }
  }
  return cases;
}
