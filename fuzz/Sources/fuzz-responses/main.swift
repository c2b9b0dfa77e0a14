// Every codec's decodeChat (a non-streamed 2xx answer → an OpenAI chat.completion) on the
// input, plus decodeModels, for one provider type of each codec.
import FuzzSupport
import ProviderMuxCore

let targets: [(ProviderConfig, any WireCodec)] = [
    ProviderType.openai, .anthropic, .gemini, .ollama, .lmstudio, .llamacpp, .azure, .cohere,
].compactMap { type in
    guard let provider = providerConfig(type), let codec = ProviderCatalogue.entry(for: type).codec else { return nil }
    return (provider, codec)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = bytes(data, size)
    for (provider, codec) in targets {
        blackHole(try? codec.decodeChat(body, model: "fz-model", provider: provider))
        blackHole(try? codec.decodeModels(body, provider: provider))
    }
    return 0
}
