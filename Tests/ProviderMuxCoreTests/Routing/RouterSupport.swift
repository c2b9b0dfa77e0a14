// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxRouting

/// A router over a whole router config (JSON text); `${VAR}`s are never read from the
/// environment. The default is one mock provider "m".
func routerFromConfig(_ json: String = #"{"providers":[{"name":"m","type":"mock"}]}"#) throws -> Router {
    try Router(config: RouterConfig.parse(JSONParser.parse(json), lookup: { _ in nil }))
}
