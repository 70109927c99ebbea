// Validate WARC files with warcio.js, a reader this project did not write.
// Usage: node validate.mjs FILE.warc.gz...  Prints one JSON summary on stdout:
// {"records": N, "types": {...}, "errors": [...], "responses": {uri: payload-base64}}
// Checks: WARC/1.1, required headers, exact Content-Length, WARC-Block-Digest
// over the record block, WARC-Payload-Digest over the HTTP payload.
import { createReadStream } from "node:fs";
import { createHash } from "node:crypto";
import { WARCParser } from "warcio";

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(buf) {
  let bits = 0, value = 0, out = "";
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}
const sha1 = (buf) => "sha1:" + base32(createHash("sha1").update(buf).digest());

const summary = { records: 0, types: {}, errors: [], responses: {} };
for (const file of process.argv.slice(2)) {
  // Pass 1: raw blocks (no HTTP parsing) for lengths and block digests.
  const blocks = [];
  for await (const rec of WARCParser.iterRecords(createReadStream(file), { parseHttp: false })) {
    const h = rec.warcHeaders;
    const block = await rec.readFully(false);
    const type = h.headers.get("WARC-Type");
    summary.records++;
    summary.types[type] = (summary.types[type] || 0) + 1;
    if (h.protocol !== "WARC/1.1") summary.errors.push(`${file}: version ${h.protocol}`);
    for (const k of ["WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length"])
      if (!h.headers.get(k)) summary.errors.push(`${file}: ${type} without ${k}`);
    if (Number(h.headers.get("Content-Length")) !== block.length)
      summary.errors.push(`${file}: ${type} Content-Length ${h.headers.get("Content-Length")} != ${block.length}`);
    const bd = h.headers.get("WARC-Block-Digest");
    if (!bd || bd !== sha1(block)) summary.errors.push(`${file}: ${type} block digest mismatch`);
    // The payload as transferred: the block after the HTTP header section
    // (no content decoding: WARC digests the entity as it was sent).
    let payload = null;
    if (type === "response") {
      const sep = Buffer.from(block).indexOf("\r\n\r\n");
      payload = sep < 0 ? null : Buffer.from(block).subarray(sep + 4);
      const pd = h.headers.get("WARC-Payload-Digest");
      if (!payload || pd !== sha1(payload)) summary.errors.push(`${file}: payload digest mismatch for ${h.headers.get("WARC-Target-URI")}`);
      else summary.responses[h.headers.get("WARC-Target-URI")] = payload.toString("base64");
    }
    blocks.push({ type, uri: h.headers.get("WARC-Target-URI") });
  }
  // Pass 2: warcio parses every HTTP message.
  let i = 0;
  for await (const rec of WARCParser.iterRecords(createReadStream(file), { parseHttp: true })) {
    const b = blocks[i++];
    if (b.type !== "response" && b.type !== "revisit") {
      await rec.readFully(false);
      continue;
    }
    if (!rec.httpHeaders) summary.errors.push(`${file}: ${b.type} for ${b.uri} has no HTTP headers`);
    await rec.readFully(true); // warcio parses (and content-decodes) the HTTP message
  }
}
console.log(JSON.stringify(summary));
