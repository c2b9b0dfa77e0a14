/// Stands in for a protocol that is not part of this build yet: every call answers
/// `.unsupported`, naming the protocol, so a config using it fails clearly at request time.
public struct PlaceholderCodec: WireCodec {
    let protocolName: String
    public init(_ protocolName: String) { self.protocolName = protocolName }

    private func unsupported(_ provider: ProviderConfig) -> PMXError {
        PMXError(.unsupported, "the \(protocolName) protocol is not available in this build", provider: provider.name)
    }
    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        throw unsupported(provider)
    }
    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject { throw unsupported(provider) }
    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding { UnsupportedStreamDecoder() }
    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? { nil }
    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] { [] }
}
