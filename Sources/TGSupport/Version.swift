/// The tool's version, recorded in every manifest this project writes.
public enum ThinkgraphVersion {
    public static let current = "0.1.0"
}
