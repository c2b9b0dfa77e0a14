/// A decoder for protocols that cannot stream: any byte is a protocol error.
final class UnsupportedStreamDecoder: ChatStreamDecoding {
    func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        throw PMXError(.unsupported, "streaming is not supported by this protocol")
    }
    func finish(_ emit: (ProviderEvent) -> Void) throws {
        throw PMXError(.unsupported, "streaming is not supported by this protocol")
    }
}
