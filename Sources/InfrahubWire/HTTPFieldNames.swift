import HTTPTypes

extension HTTPField.Name {
    /// Infrahub's credential header. The sender marks the field `indexingStrategy = .disallow`,
    /// which keeps it out of HPACK tables and out of our descriptions (`DescriptionRedaction`).
    ///
    /// The literal is a valid token, so the unwrap cannot fail (the pattern swift-http-types documents).
    package static let apiKey = Self("api_key")!
}
