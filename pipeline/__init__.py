#: Version of the parser's output. Part of the parse-cache key: bumping it re-parses every document.
PARSER_VERSION = "3"
