#pragma once
// Checksums S3 asks for (docs/facts.md §7): CRC32C (Castagnoli) for x-amz-checksum-crc32c and
// ChecksumCRC32C, MD5 for Content-MD5; both travel base64-encoded, big-endian for CRCs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2r::aws {

// CRC32C of data, continuing from `previous` (the value returned for the bytes before),
// so a part can be checksummed in chunks: crc32c(b, crc32c(a)) == crc32c(a + b).
// Uses SSE4.2's crc32 instruction when the CPU has it, a table otherwise.
std::uint32_t crc32c(std::string_view data, std::uint32_t previous = 0);
// The portable implementation, exposed so tests can compare the two paths.
std::uint32_t crc32c_software(std::string_view data, std::uint32_t previous = 0);
bool crc32c_uses_hardware();

// CRC32C of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine method).
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t length_b);

// The four big-endian bytes of a CRC, base64-encoded: the wire form of x-amz-checksum-crc32c.
std::string crc32c_base64(std::uint32_t crc);

std::string base64_encode(std::string_view data);
// nullopt when the text is not canonical base64 (padding included).
std::optional<std::string> base64_decode(std::string_view text);

// Lower-case hex of raw bytes (an ETag from a raw MD5).
std::string hex_encode(std::string_view raw);

// Raw 16-byte MD5 and its base64 (the Content-MD5 header value).
std::string md5_raw(std::string_view data);
std::string md5_base64(std::string_view data);

// What S3 reports for a multipart object, computed from its parts without reading the object
// (the upload's final check, and the fake object store of the tests):
// the ETag, hex MD5 of the concatenated binary part MD5s and "-<count>"; "" when a part's
// MD5 is not 32 hex digits (such a list cannot match any ETag);
std::string multipart_etag(const std::vector<std::string>& part_md5_hex);
// the composite checksum (type COMPOSITE), base64 CRC32C of the concatenated binary part CRCs
// and "-<count>"; "" when a part's CRC is not the base64 of four bytes.
std::string composite_crc32c(const std::vector<std::string>& part_crc32c_base64);

}  // namespace m2r::aws
