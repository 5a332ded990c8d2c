// The worker thread that converts certificates (see converter.ts): one request at a time, so a
// crash names the request that caused it. Replies carry a CertificateError's code and message
// (value-free by construction), never the input.
import { parentPort } from 'node:worker_threads';
import type { ConversionReply, ConversionRequest } from './conversion-messages.ts';
import { certificateToTls } from './certificate-to-tls.ts';
import { CertificateError } from './errors.ts';

function convert(request: ConversionRequest): ConversionReply {
  try {
    return {
      ok: true,
      material: certificateToTls(request.backing, request.options, request.limits),
    };
  } catch (error) {
    if (error instanceof CertificateError) {
      return { ok: false, code: error.code, message: error.message };
    }
    return {
      ok: false,
      code: undefined,
      message: error instanceof Error ? error.message : 'unknown',
    };
  }
}

parentPort?.on('message', (request: ConversionRequest) => {
  parentPort?.postMessage(convert(request));
});
