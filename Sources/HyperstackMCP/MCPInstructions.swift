import SecureFiles

/// The `instructions` of the `initialize` result: how an agent should use the tools, and that
/// secrets go to files, not into the conversation.
package enum MCPInstructions {
    package static func text(_ options: MCPOptions) -> String {
        var lines = [
            "This server manages the Hyperstack API keys of one account.",
            "- list_api_keys shows the keys, masked, with the key set's revision; it answers from the server's short-lived cache (--cache-ttl) unless refresh is true.",
        ]
        if options.inlineSecrets {
            lines.append(
                "- generate_api_key creates a key. This server was started with --mcp-inline-secrets, so the result carries the secret unless secretFile names a file for it; treat it as a password and do not repeat it.")
        } else {
            lines.append(
                "- generate_api_key creates a key and writes its secret to a new file (mode 0600, never overwritten), by default named after the key's id in \(options.secretFiles.secretsDirectory). The result gives the file's path, never the secret: pass the path on (for example as --api-key-file or to an environment loader) and do not read the file into the conversation.")
            lines.append(
                "- secretFile chooses the file: a relative name goes into that directory; an absolute path must lie under it\(options.secretFiles.allowedDirectories.isEmpty ? "" : " or under " + options.secretFiles.allowedDirectories.joined(separator: ", ")).")
        }
        lines += [
            "- update_api_key renames a key; name is required even when only the description changes.",
            "- delete_api_key removes a key for good; confirm with the user first. A client that can show forms asks the user itself, and a \"no\" there is final: do not retry the deletion unless the user asks again.",
            "- Errors come back as results with isError and a sentence saying what to do next.",
            "- Resources: hyperstack://api-keys (the masked list) and hyperstack://api-keys/{id}; subscribe (resources/subscribe, or subscriptions/listen in the stateless revision) to hear when keys change.",
        ]
        return lines.joined(separator: "\n")
    }
}
