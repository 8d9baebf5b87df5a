namespace MtActors.Protocol.Tl;

/// <summary>Why a TL read failed. Readers never throw on malformed input; they record the first error.</summary>
public enum TlError
{
    None = 0,
    /// <summary>The data ended before the value did.</summary>
    Truncated,
    /// <summary>A bytes/string length prefix of 0xff, which TL does not define.</summary>
    BadLengthPrefix,
    /// <summary>A length or count that is negative or larger than the bytes that are present.</summary>
    BadLength,
    /// <summary>A vector whose header is not 0x1cb5c415.</summary>
    BadVectorHeader,
    /// <summary>A Bool that is neither boolTrue nor boolFalse.</summary>
    BadBool,
    /// <summary>A constructor id this reader does not know.</summary>
    UnknownConstructor,
    /// <summary>A known constructor where another type was required.</summary>
    UnexpectedConstructor,
    /// <summary>Objects nested deeper than the reader allows (wrappers, containers, JSON).</summary>
    TooDeep,
    /// <summary>gzip_packed data that is not a valid, complete gzip stream.</summary>
    BadGzip,
    /// <summary>A value that parses but breaks a rule of its type (wrong size, bad UTF-8, ...).</summary>
    InvalidValue,
    /// <summary>Bytes left over after a value that must fill its buffer exactly.</summary>
    TrailingData,
    /// <summary>gzip_packed data that inflates past the allowed size (a gzip bomb or an oversized object).</summary>
    GzipTooLarge,
    /// <summary>A vector or container with more items than its type allows (e.g. a container over 1024 messages).</summary>
    TooManyItems,
}
