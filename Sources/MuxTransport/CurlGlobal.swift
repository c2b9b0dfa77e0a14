// SPDX-License-Identifier: Apache-2.0
import CCurl

/// `curl_global_init` exactly once per process, on first use (a lazy global is thread-safe).
package enum CurlGlobal {
    package static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}
