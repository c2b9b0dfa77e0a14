// SPDX-License-Identifier: Apache-2.0
// A codec's decodeChat (a non-streamed 2xx answer → an OpenAI chat.completion) and
// decodeModels on the input. The first byte picks the codec (one provider type of each), the
// rest is the body: one decode pair per execution keeps the rate up and lets libFuzzer's
// coverage feedback tell the codecs apart.
import MuxConfig
import MuxProtocols
import MuxProviders
import FuzzSupport

let targets: [(ProviderConfig, any WireCodec)] = [
    ProviderType.openai, .anthropic, .gemini, .ollama, .lmstudio, .llamacpp, .azure, .cohere,
].compactMap { type in
    guard let provider = providerConfig(type), let codec = ProviderCatalogue.entry(for: type).codec else { return nil }
    return (provider, codec)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let (provider, codec) = targets[Int(data[0]) % targets.count]
    let body = bytes(data + 1, size - 1)
    blackHole(try? codec.decodeChat(body, model: "fz-model", provider: provider))
    blackHole(try? codec.decodeModels(body, provider: provider))
    return 0
}
