// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Server-Sent Events as OpenAI writes them: `data: {json}\n\n` lines (chat and text
/// completions), `event: <type>\ndata: {json}\n\n` (the Responses API), and `data: [DONE]`.
/// The encoders build one event's frames into a byte array, then `seal` masks and records it.
package enum SSEFrames {
    package static func data(_ value: JSONValue, into out: inout [UInt8]) {
        out.append(contentsOf: "data: ".utf8)
        JSONWriter.write(value, into: &out)
        out.append(contentsOf: [0x0A, 0x0A])
    }

    /// A named event (`event:` line before its data), as the Responses API streams.
    package static func event(_ name: String, _ value: JSONValue, into out: inout [UInt8]) {
        out.append(contentsOf: "event: ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(0x0A)
        data(value, into: &out)
    }

    package static func done(into out: inout [UInt8]) { out.append(contentsOf: "data: [DONE]\n\n".utf8) }

    /// Masks keys in what is about to be sent (a careless upstream may echo one) and records
    /// it in the transcript the suite's secret scan reads.
    package static func seal(_ out: inout [UInt8]) {
        guard !out.isEmpty else { return }
        Secrets.mask(&out)
        Transcript.record(.event, out)
    }
}
