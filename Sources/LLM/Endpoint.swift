import Foundation
import TGSupport

/// A credential. It prints as `<redacted>` wherever it ends up in a string
/// interpolation, a log line or a dump, so it cannot leak by accident; the
/// value is read only where a request header is built.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    fileprivate let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// A key from a file (first line, trimmed) or an environment variable.
    public static func load(file: String?, environmentVariable: String?, environment: [String: String]) throws -> Secret? {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw InputError(file: file, message: "cannot read the API key file")
            }
            let key = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !key.isEmpty else { throw InputError(file: file, line: 1, message: "the API key file is empty") }
            return Secret(key)
        }
        if let environmentVariable, let key = environment[environmentVariable]?.trimmingCharacters(in: .whitespacesAndNewlines),
           !key.isEmpty {
            return Secret(key)
        }
        return nil
    }

    /// Removes this secret, and anything shaped like an OpenAI key, from a
    /// text that may echo it (servers quote part of a wrong key back).
    public func redact(_ text: String) -> String { Redactor(secrets: [self]).redact(text) }
}

/// Scrubs credentials out of texts that came from elsewhere (error bodies).
public struct Redactor: Sendable {
    public var secrets: [Secret]

    public init(secrets: [Secret]) { self.secrets = secrets }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where secret.value.count >= 4 {
            result = result.replacingOccurrences(of: secret.value, with: "<redacted>")
        }
        // OpenAI-style keys (sk-..., also partially masked "sk-abc***xyz").
        result = result.replacingOccurrences(of: #"sk-[A-Za-z0-9_\-\*]{3,}"#, with: "<redacted>", options: .regularExpression)
        return result
    }
}

/// Who serves the chat completions.
public enum Provider: String, Sendable, CaseIterable {
    /// api.openai.com or any OpenAI-compatible base URL, `Authorization: Bearer`.
    case openai
    /// Azure OpenAI: endpoint + deployment + api-version, `api-key` header.
    case azure
    /// A local OpenAI-compatible server (vLLM, llama.cpp server, Ollama's
    /// /v1); a key only if one is given.
    case local
}

/// Where chat completion requests go and how they authenticate.
public struct Endpoint: Sendable {
    public var provider: Provider
    /// For openai and local: the API root including `/v1`. For azure: the
    /// resource endpoint (`https://NAME.openai.azure.com`).
    public var baseURL: String
    public var deployment: String?
    public var apiVersion: String?
    public var key: Secret?

    public static let openAIDefaultBase = "https://api.openai.com/v1"

    public init(provider: Provider, baseURL: String, deployment: String? = nil, apiVersion: String? = nil, key: Secret? = nil) {
        self.provider = provider
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.deployment = deployment
        self.apiVersion = apiVersion
        self.key = key
    }

    /// The chat completions URL.
    public var chatURL: String {
        switch provider {
        case .azure:
            let version = apiVersion ?? "2024-10-21"
            return "\(baseURL)/openai/deployments/\(deployment ?? "")/chat/completions?api-version=\(version)"
        case .openai, .local:
            return baseURL + "/chat/completions"
        }
    }

    /// Headers of every request; the key's value appears only here.
    public var headers: [(String, String)] {
        var headers = [("Content-Type", "application/json")]
        if let key {
            switch provider {
            case .azure: headers.append(("api-key", key.value))
            case .openai, .local: headers.append(("Authorization", "Bearer " + key.value))
            }
        }
        return headers
    }

    /// The host requests go to.
    public var host: String { URLComponents(string: baseURL)?.host ?? "" }

    /// Checks the base URL and that the host may receive patient text:
    /// loopback always, anything else only when named in `allowedHosts`
    /// and over HTTPS.
    public func checkAllowed(_ allowedHosts: Set<String>) throws {
        guard let components = URLComponents(string: baseURL), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            throw UsageError("\(baseURL): not an http(s) base URL")
        }
        if provider == .azure, (deployment ?? "").isEmpty {
            throw UsageError("Azure OpenAI needs --deployment")
        }
        if Self.isLoopback(host) { return }
        guard allowedHosts.contains(host.lowercased()) else {
            throw UsageError("""
                refusing to send patient text to \(host): only loopback servers are allowed by default; \
                pass --allow-remote \(host) (or list it under "allow_remote" in the config) if this service is approved for the data
                """)
        }
        guard scheme == "https" else {
            throw UsageError("\(host): patient text goes to remote hosts over https only")
        }
    }

    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        // 127.0.0.0/8, written as a dotted IPv4 literal (not a name such as 127.example.com).
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in UInt8(part) != nil }
    }
}
