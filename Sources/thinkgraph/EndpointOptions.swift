import ArgumentParser
import Foundation
import LLM
import TGSupport

extension Provider: ExpressibleByArgument {}

/// Where requests go, how they authenticate and how hard they may push.
/// Each option can also come from a JSON config file (`--config`); the
/// command line wins.
struct EndpointOptions: ParsableArguments {
    @Option(help: "JSON config with any of: provider, base_url, deployment, api_version, api_key_file, api_key_env, allow_remote (list), concurrency, rpm, tpm, timeout, max_attempts, price_input, price_output.")
    var config: String?

    @Option(help: "openai, azure or local (default: local for a loopback --base-url, else openai).")
    var provider: Provider?

    @Option(help: "API root: OpenAI-compatible base URL with /v1 (default: OPENAI_BASE_URL, else https://api.openai.com/v1), or the Azure resource endpoint (default: AZURE_OPENAI_ENDPOINT).")
    var baseURL: String?

    @Option(help: "Azure OpenAI deployment name.")
    var deployment: String?

    @Option(help: "Azure OpenAI api-version.")
    var apiVersion: String?

    @Option(help: "File whose first line is the API key.")
    var apiKeyFile: String?

    @Option(help: "Environment variable holding the API key (default: OPENAI_API_KEY; AZURE_OPENAI_API_KEY for azure; none for local).")
    var apiKeyEnv: String?

    @Option(help: "A non-loopback host approved to receive patient text (repeatable).")
    var allowRemote: [String] = []

    @Option(help: "Requests in flight at most (default 64).")
    var concurrency: Int?

    @Option(help: "Requests per minute at most.")
    var rpm: Double?

    @Option(help: "Tokens per minute at most (prompt estimate + max tokens, settled with the real counts).")
    var tpm: Double?

    @Option(help: "Seconds a request may take (default 120).")
    var timeout: Double?

    @Option(help: "Attempts per request, the first included (default 6).")
    var maxAttempts: Int?

    @Option(help: "First back-off pause in seconds, doubled each retry, with jitter (default 1).")
    var retryBase: Double?

    @Option(help: "US$ per million prompt tokens, for the cost estimate (default: list price of known OpenAI models, else 0).")
    var priceInput: Double?

    @Option(help: "US$ per million completion tokens.")
    var priceOutput: Double?

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        for (name, value) in [("--rpm", rpm), ("--tpm", tpm), ("--timeout", timeout), ("--retry-base", retryBase)] {
            if let value, !(value.isFinite && value > 0) { throw ValidationError("\(name) must be a positive number, not \(value)") }
        }
        for (name, value) in [("--price-input", priceInput), ("--price-output", priceOutput)] {
            if let value, !(value.isFinite && value >= 0) { throw ValidationError("\(name) must be 0 or more, not \(value)") }
        }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
    }

    private func configValues() throws -> JSONValue {
        guard let config else { return .object([]) }
        guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
            throw InputError(file: config, message: "cannot read the config file")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw InputError(file: config, message: "\(error)") }
        guard let members = value.objectValue else { throw InputError(file: config, message: "expected a JSON object") }
        let known: Set<String> = ["provider", "base_url", "deployment", "api_version", "api_key_file", "api_key_env", "allow_remote",
                                  "concurrency", "rpm", "tpm", "timeout", "max_attempts", "price_input", "price_output"]
        if members.contains(where: { $0.0 == "api_key" }) {
            throw InputError(file: config, field: "api_key", message: "keys do not go in the config; use api_key_file or api_key_env")
        }
        for (key, _) in members where !known.contains(key) {
            throw InputError(file: config, field: key, message: "unknown setting (known: \(known.sorted().joined(separator: ", ")))")
        }
        return value
    }

    /// The endpoint, client settings and allowed hosts. `sending: false`
    /// (a dry run) needs neither a key nor permission for a remote host,
    /// since nothing leaves the machine.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment, sending: Bool = true) throws
        -> (endpoint: Endpoint, settings: ClientSettings, allowed: Set<String>, price: (Double, Double)?) {
        let config = try configValues()
        func text(_ key: String) -> String? { config[key]?.stringValue }
        func number(_ key: String) throws -> Double? {
            guard let value = config[key], value != .null else { return nil }
            guard let number = value.doubleValue else {
                throw InputError(file: self.config ?? "", field: key, message: "expected a number, found \(value.kindName)")
            }
            return number
        }
        let providerName = provider?.rawValue ?? text("provider")
        var chosen = try providerName.map { name -> Provider in
            guard let value = Provider(rawValue: name) else { throw UsageError("unknown provider \(name) (openai, azure, local)") }
            return value
        }
        var base = baseURL ?? text("base_url")
        if chosen == .azure {
            base = base ?? environment["AZURE_OPENAI_ENDPOINT"]
            guard base != nil else { throw UsageError("Azure OpenAI needs --base-url https://NAME.openai.azure.com (or AZURE_OPENAI_ENDPOINT)") }
        }
        let url = base ?? environment["OPENAI_BASE_URL"] ?? Endpoint.openAIDefaultBase
        if chosen == nil {
            let host = URLComponents(string: url)?.host ?? ""
            chosen = Endpoint.isLoopback(host) ? .local : .openai
        }
        let kind = chosen!
        let keyVariable = apiKeyEnv ?? text("api_key_env") ?? (kind == .azure ? "AZURE_OPENAI_API_KEY" : kind == .openai ? "OPENAI_API_KEY" : nil)
        let key = try Secret.load(file: apiKeyFile ?? text("api_key_file"), environmentVariable: keyVariable, environment: environment)
        if kind != .local && key == nil && sending {
            throw UsageError("no API key: set \(keyVariable ?? "OPENAI_API_KEY") or pass --api-key-file")
        }
        let endpoint = Endpoint(provider: kind, baseURL: url, deployment: deployment ?? text("deployment"),
                                apiVersion: apiVersion ?? text("api_version"), key: key)
        var allowed = Set(allowRemote.map { $0.lowercased() })
        for host in config["allow_remote"]?.arrayValue ?? [] {
            if let name = host.stringValue { allowed.insert(name.lowercased()) }
        }
        if sending { try endpoint.checkAllowed(allowed) }

        var settings = ClientSettings()
        settings.concurrency = try concurrency ?? number("concurrency").map { Int($0) } ?? 64
        settings.requestsPerMinute = try rpm ?? number("rpm")
        settings.tokensPerMinute = try tpm ?? number("tpm")
        settings.timeout = try timeout ?? number("timeout") ?? 120
        settings.backoff.maxAttempts = try maxAttempts ?? number("max_attempts").map { Int($0) } ?? 6
        if let retryBase { settings.backoff.base = retryBase }
        guard settings.concurrency >= 1, settings.backoff.maxAttempts >= 1, settings.timeout > 0 else {
            throw ValidationError("--concurrency and --max-attempts must be at least 1, --timeout positive")
        }
        let input = try priceInput ?? number("price_input"), output = try priceOutput ?? number("price_output")
        let price = (input != nil || output != nil) ? (input ?? 0, output ?? 0) : nil
        return (endpoint, settings, allowed, price)
    }
}
