import JanssonJSON

/// The body of generate and update, `{name, description?}`, validated as upstream does.
struct KeyPayload {
    static let nameLengths = 1...200

    var name: String
    var description: String?
    /// Distinguishes a missing description (update keeps the old one) from `null`.
    var descriptionGiven: Bool

    struct Failure: Error {
        var message: String
    }

    /// Name length counts Unicode scalars, as upstream's Python `len` does, so "é" is one
    /// character and an emoji made of several scalars is several.
    static func parse(_ body: [UInt8]?) -> Result<KeyPayload, Failure> {
        guard let body, !body.isEmpty else {
            return .failure(Failure(message: #"The request body must be a JSON object with a "name"."#))
        }
        let json: JSON
        do {
            json = try JSON.parse(body)
        } catch {
            return .failure(Failure(message: "The request body is not valid JSON: \(error)."))
        }
        guard json.objectValue != nil else {
            return .failure(Failure(message: "The request body must be a JSON object, got \(json.typeName)."))
        }
        guard let nameValue = json["name"], !nameValue.isNull else {
            return .failure(Failure(message: #""name" is required."#))
        }
        guard let name = nameValue.stringValue else {
            return .failure(Failure(message: #""name" must be a string, got "# + nameValue.typeName + "."))
        }
        let length = name.unicodeScalars.count
        guard nameLengths.contains(length) else {
            return .failure(Failure(message: #""name" must be 1 to 200 characters long, got \#(length)."#))
        }
        var description: String?
        var descriptionGiven = false
        if let value = json["description"] {
            descriptionGiven = true
            if !value.isNull {
                guard let text = value.stringValue else {
                    return .failure(Failure(message: #""description" must be a string, got "# + value.typeName + "."))
                }
                description = text
            }
        }
        return .success(KeyPayload(name: name, description: description, descriptionGiven: descriptionGiven))
    }
}
