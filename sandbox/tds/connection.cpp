#include "tds/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <stdexcept>

#include <fmt/format.h>

#include "tds/bulk_load.hpp"
#include "tds/login7.hpp"
#include "tds/prelogin.hpp"
#include "tds/tokens.hpp"
#include "tds/type_codec.hpp"

namespace sandbox::tds {
namespace {

constexpr std::size_t k_max_message = 64u << 20;  // refuse requests above 64 MiB
constexpr std::uint16_t k_curcmd_select = 0xC1;   // DONE CurCmd as SQL Server reports a SELECT
constexpr const char* k_encryption_refusal =
    "this sandbox server does not support encryption; connect with encryption off";

Message error_message(int number, int severity, std::string text, int state = 1) {
  Message m;
  m.number = number;
  m.severity = severity;
  m.state = state;
  m.text = std::move(text);
  return m;
}

// Turns the engine's ResultSink callbacks into tokens. The last DONE of a statement
// is held back until the next token shows whether more results follow (DONE_MORE)
// or the request is complete.
class TokenSink final : public ResultSink {
 public:
  explicit TokenSink(Connection& c) : m_conn(c) {}

  void columns(const std::vector<Column>& cols) override {
    write_pending(true);
    m_cols = cols;
    if (m_conn.tds_version() < k_tds_version_73) {
      // Down-level clients (TDS 7.2 and older) get the SQL Server 2008 date/time types
      // as nvarchar text, as SQL Server sends them.
      for (Column& c : m_cols) {
        if (c.type.type == SqlType::datetime2) {
          c.type = {SqlType::nvarchar, 19 + (c.type.scale > 0 ? c.type.scale + 1 : 0), 0, 0};
        } else if (c.type.type == SqlType::date) {
          c.type = {SqlType::nvarchar, 10, 0, 0};
        } else if (c.type.type == SqlType::time) {
          c.type = {SqlType::nvarchar, 8 + (c.type.scale > 0 ? c.type.scale + 1 : 0), 0, 0};
        } else if (c.type.type == SqlType::datetimeoffset) {
          c.type = {SqlType::nvarchar, 26 + (c.type.scale > 0 ? c.type.scale + 1 : 0), 0, 0};
        } else if (c.type.type == SqlType::xml && m_conn.tds_version() < k_tds_version_72) {
          c.type = {SqlType::ntext, k_max_length, 0, 0};  // TDS 7.1 has no XMLTYPE: ntext, as SQL Server sends it
        }
      }
    }
    write_colmetadata(w(), m_cols);
    write_browse_info(w(), m_cols);  // server cursors' result sets
    m_conn.out().send_full_packets();
  }

  void row(const std::vector<Value>& values) override {
    write_pending(true);
    ByteWriter row_bytes;
    try {
      write_row(row_bytes, m_cols, values);
    } catch (const std::exception& e) {
      message(error_message(50000, 16, fmt::format("The sandbox cannot send a row value: {}", e.what())));
      return;
    }
    w().bytes(row_bytes.data());
    m_conn.out().send_full_packets();
  }

  void done(DoneKind kind, std::optional<std::int64_t> row_count, bool error) override {
    write_pending(true);
    m_error_since_done = false;
    Pending p;
    p.token = kind == DoneKind::proc ? k_token_doneproc : kind == DoneKind::in_proc ? k_token_doneinproc : k_token_done;
    p.status = static_cast<std::uint16_t>((row_count ? k_done_count : 0) | (error ? k_done_error : 0));
    p.count = row_count ? static_cast<std::uint64_t>(*row_count) : 0;
    p.cur_cmd = m_cols.empty() ? 0 : k_curcmd_select;
    m_cols.clear();
    if (kind == DoneKind::in_proc && !row_count && !error) {
      // A DONEINPROC is never the last token of a request (a DONE or DONEPROC follows), so
      // it carries DONE_MORE and goes out now: after a progress message (BACKUP ... WITH
      // STATS) this is the marker at which ODBC drivers hand the message to the caller.
      write_done(w(), p.token, static_cast<std::uint16_t>(p.status | k_done_more), p.cur_cmd, 0);
      m_conn.out().flush();
      return;
    }
    m_pending = p;
  }

  void message(const Message& msg) override {
    if (m_skip_5701 && msg.number == 5701) {  // database_changed already sent it
      m_skip_5701 = false;
      return;
    }
    write_pending(true);
    m_error_seen = m_error_seen || msg.is_error();
    m_error_since_done = m_error_since_done || msg.is_error();
    write_message(w(), msg, m_conn.server_name());
    // A packet boundary: progress (BACKUP ... WITH STATS, RAISERROR WITH NOWAIT) must
    // reach the client now, not when the statement ends.
    m_conn.out().flush();
  }

  void database_changed(const std::string& old_db, const std::string& new_db) override {
    write_pending(true);
    write_env_string(w(), k_env_database, new_db, old_db);
    Message info;
    info.number = 5701;
    info.state = 2;
    info.severity = 10;
    info.text = fmt::format("Changed database context to '{}'.", new_db);
    write_message(w(), info, m_conn.server_name());
    m_skip_5701 = true;
  }

  void return_status(int status) override {
    write_pending_unless_proc();
    write_returnstatus(w(), status);
  }

  bool cancelled() override { return m_conn.check_attention(); }

  // RETURNVALUE ([MS-TDS] 2.2.7.18): its ordinal is the parameter's position in the RPC call,
  // found by name, else (positional calls, as the FreeTDS ODBC driver makes them) the next
  // unnamed OUTPUT parameter. A named one is answered under the name as the client spelt it
  // (the engine folds names to lower case): tedious matches its output parameters by name.
  void return_value(const std::string& name, const ColumnType& type, const Value& v) override {
    std::uint16_t ordinal = 0;
    std::string answered_name = name;
    auto take = [&](auto matches) {
      for (auto& slot : m_output_slots) {
        if (!slot.used && matches(slot)) {
          slot.used = true;
          ordinal = slot.ordinal;
          if (!slot.name.empty()) answered_name = slot.name;
          return true;
        }
      }
      return false;
    };
    if (!take([&](const OutputSlot& o) { return iequals_ascii(o.name, name); })) {
      take([&](const OutputSlot& o) { return o.name.empty(); });
    }
    return_value_at(ordinal, answered_name, type, v);
  }

  void transaction_changed(Transaction event) override {
    write_pending(true);
    ByteWriter d;
    if (event == Transaction::began) {
      d.u64(m_conn.transaction_began());
      write_env_bytes(w(), k_env_begin_tran, d.data(), {});
    } else {
      d.u64(m_conn.transaction_ended());
      write_env_bytes(w(), event == Transaction::committed ? k_env_commit_tran : k_env_rollback_tran, {}, d.data());
    }
  }

  // Not part of ResultSink: the TDS layer's own additions.
  // The OUTPUT parameters of the RPC call being answered: (ordinal in the request, name).
  void expect_outputs(const std::vector<RpcParam>& params, std::size_t skip_first) {
    m_output_slots.clear();
    for (std::size_t i = skip_first; i < params.size(); ++i) {
      if (params[i].output) m_output_slots.push_back({static_cast<std::uint16_t>(i), params[i].name, false});
    }
  }
  void return_value_at(std::uint16_t ordinal, const std::string& name, const ColumnType& type, const Value& v) {
    write_pending_unless_proc();
    write_returnvalue(w(), ordinal, name, type, v);
  }
  void error(const Message& m) { message(m); }
  bool error_seen() const { return m_error_seen; }

  // Ends one request (batch) or one RPC call: the final DONE / DONEPROC, with
  // DONE_MORE when more_follow (further RPCs in the same request).
  void finish(std::uint8_t final_token, bool more_follow) {
    const std::uint16_t more = more_follow ? k_done_more : 0;
    if (m_pending && m_pending->token == final_token) {
      m_pending->status = static_cast<std::uint16_t>(m_pending->status | more);
      write_done(w(), m_pending->token, m_pending->status, m_pending->cur_cmd, m_pending->count);
      m_pending.reset();
      return;
    }
    write_pending(true);
    // The closing DONE carries DONE_ERROR for an error no DONE token has reported yet (an
    // EXEC's failed statement was on its DONEINPROC: ODBC drivers would see it twice).
    write_done(w(), final_token, static_cast<std::uint16_t>(more | (m_error_since_done ? k_done_error : 0)), 0, 0);
  }

 private:
  struct Pending {
    std::uint8_t token = k_token_done;
    std::uint16_t status = 0;
    std::uint16_t cur_cmd = 0;
    std::uint64_t count = 0;
  };
  ByteWriter& w() { return m_conn.out().tokens(); }
  void write_pending(bool more) {
    if (!m_pending) return;
    write_done(w(), m_pending->token, static_cast<std::uint16_t>(m_pending->status | (more ? k_done_more : 0)),
               m_pending->cur_cmd, m_pending->count);
    m_pending.reset();
  }
  void write_pending_unless_proc() {
    if (m_pending && m_pending->token != k_token_doneproc) write_pending(true);
  }

  struct OutputSlot {
    std::uint16_t ordinal = 0;
    std::string name;
    bool used = false;
  };
  static bool iequals_ascii(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  }

  Connection& m_conn;
  std::vector<Column> m_cols;
  std::vector<OutputSlot> m_output_slots;
  std::optional<Pending> m_pending;
  bool m_error_seen = false;
  bool m_error_since_done = false;
  bool m_skip_5701 = false;
};

std::optional<std::int64_t> int_param(const RpcParam& p) {
  if (auto v = std::get_if<std::int64_t>(&p.value)) return *v;
  return std::nullopt;
}

std::string text_param(const RpcParam& p) {
  if (auto v = std::get_if<std::string>(&p.value)) return *v;
  return {};
}

RpcParam named_text(const char* name, const std::string& text) {
  RpcParam p;
  p.name = name;
  p.type = {SqlType::nvarchar, k_max_length, 0, 0};
  p.value = text;
  return p;
}

}  // namespace

// ---- ResponseWriter ----------------------------------------------------------

void ResponseWriter::send(const std::vector<std::uint8_t>& bytes) {
  std::size_t off = 0;
  if (m_tls != nullptr) {
    m_broken = m_broken || !m_tls->write(bytes.data(), bytes.size());
    return;
  }
  while (!m_broken && off < bytes.size()) {
    const ssize_t n = ::send(m_fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      m_broken = true;
      break;
    }
    off += static_cast<std::size_t>(n);
  }
}

void ResponseWriter::emit(std::size_t n, bool eom) {
  auto& data = m_buffer.data();
  const std::vector<std::uint8_t> part(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
  data.erase(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
  send(frame_packets(PacketType::tabular_result, part, m_packet_size, m_spid, eom, &m_packet_id));
}

void ResponseWriter::send_full_packets() {
  const std::size_t room = m_packet_size - k_header_size;
  if (m_buffer.size() > room) emit(m_buffer.size() / room * room - (m_buffer.size() % room == 0 ? room : 0), false);
}

void ResponseWriter::flush() {
  if (m_buffer.size() > 0) emit(m_buffer.size(), false);
}

void ResponseWriter::end_message() {
  emit(m_buffer.size(), true);
  m_packet_id = 1;
}

void ResponseWriter::send_raw_message(PacketType type, const std::vector<std::uint8_t>& payload) {
  std::uint8_t id = 1;
  send(frame_packets(type, payload, m_packet_size, m_spid, true, &id));
}

// ---- Connection ----------------------------------------------------------------

Connection::Connection(int fd, Instance& instance, std::uint16_t spid, const std::atomic<bool>& stopping, LogFn log,
                       std::chrono::milliseconds read_timeout, TlsPolicy tls)
    : m_fd(fd), m_instance(instance), m_spid(spid), m_stopping(stopping), m_log(std::move(log)),
      m_read_timeout(read_timeout), m_tls_policy(std::move(tls)), m_out(fd, spid) {
  m_server_name = m_instance.info().server_name;
}

bool Connection::recv_exact(std::uint8_t* p, std::size_t n, bool started) {
  std::size_t off = 0;
  while (off < n) {
    if ((started || off > 0) && !(m_tls && m_tls->pending())) {
      // Part of a packet or message is in: the rest must follow within the read timeout.
      pollfd pfd{m_fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(m_read_timeout.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        m_log(fmt::format("spid {}: the client sent part of a packet and nothing more for {} ms; closing", m_spid,
                          m_read_timeout.count()));
        m_closed = true;
        return false;
      }
    }
    if (m_tls) {
      const std::size_t r = m_tls->read(p + off, n - off);
      if (r == 0) return false;
      off += r;
      continue;
    }
    const ssize_t r = ::recv(m_fd, p + off, n - off, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    off += static_cast<std::size_t>(r);
  }
  return true;
}

bool Connection::read_packet(PacketHeader* header, std::vector<std::uint8_t>* body, bool started) {
  if (m_pushed_back) {
    *header = m_pushed_back->first;
    *body = std::move(m_pushed_back->second);
    m_pushed_back.reset();
    return true;
  }
  std::uint8_t raw[k_header_size];
  if (!recv_exact(raw, k_header_size, started)) return false;
  *header = parse_header(raw);
  body->resize(header->length - k_header_size);
  return recv_exact(body->data(), body->size(), true);
}

std::optional<Connection::ClientMessage> Connection::read_message() {
  ClientMessage msg;
  for (bool first = true;; first = false) {
    PacketHeader h;
    std::vector<std::uint8_t> body;
    if (!read_packet(&h, &body, !first)) return std::nullopt;
    if (first) {
      msg.type = h.type;
      msg.status = h.status;
    }
    // An attention may interrupt a partly sent request; it wins.
    if (h.type == PacketType::attention) {
      msg.type = PacketType::attention;
      msg.payload.clear();
      return msg;
    }
    msg.payload.insert(msg.payload.end(), body.begin(), body.end());
    if (msg.payload.size() > k_max_message) throw ProtocolError("request larger than 64 MiB");
    // A client that gives up on a message part-way sets the ignore bit on its last packet.
    msg.status = static_cast<std::uint8_t>(msg.status | (h.status & k_status_ignore));
    if (h.status & k_status_eom) break;
  }
  if (msg.status & k_status_ignore) msg.payload.clear();
  return msg;
}

bool Connection::check_attention() {
  if (m_attention || m_closed || m_stopping.load() || m_out.broken()) return true;
  pollfd p{m_fd, POLLIN, 0};
  if (!(m_tls && m_tls->pending()) && ::poll(&p, 1, 0) <= 0) return false;
  PacketHeader h;
  std::vector<std::uint8_t> body;
  try {
    if (!read_packet(&h, &body, true)) {
      m_closed = true;
      return true;
    }
  } catch (const ProtocolError&) {
    m_closed = true;
    return true;
  }
  if (h.type == PacketType::attention) {
    m_attention = true;
    return true;
  }
  m_pushed_back.emplace(h, std::move(body));  // not ours to judge now; read after the request
  return false;
}

void Connection::refuse(const Message& m) {
  write_message(m_out.tokens(), m, m_server_name);
  write_done(m_out.tokens(), k_token_done, k_done_error, 0, 0);
  m_out.end_message();
}

void Connection::send_error_response(const Message& m) {
  write_message(m_out.tokens(), m, m_server_name);
  write_done(m_out.tokens(), k_token_done, k_done_error, 0, 0);
  m_out.end_message();
}

bool Connection::negotiate_encryption(const std::optional<Encryption>& client_encryption, const InstanceInfo& info) {
  const EncryptionOutcome outcome =
      tds::negotiate_encryption(client_encryption, m_tls_policy.context != nullptr, m_tls_policy.required);
  m_out.send_raw_message(PacketType::tabular_result, build_prelogin_response(info.product_version, outcome.answer));
  switch (outcome.mode) {
    case EncryptionMode::none:
      return true;
    case EncryptionMode::client_needs_tls:
      m_log(fmt::format("spid {}: client requires encryption; {}", m_spid, k_encryption_refusal));
      // A client that honours ENCRYPT_NOT_SUP gives up by itself; one that starts a
      // TLS handshake anyway gets the reason in plain TDS before we close.
      if (read_message()) refuse(error_message(18456, 14, k_encryption_refusal));
      return false;
    case EncryptionMode::server_needs_tls:
      // As SQL Server with Force Encryption (and RDS with rds.force_ssl = 1) does: the
      // connection closes after PRELOGIN, before any login.
      m_log(fmt::format("spid {}: the client does not support encryption (ENCRYPT_NOT_SUP) and this server requires "
                        "it (force_ssl); closing",
                        m_spid));
      return false;
    case EncryptionMode::login_only:
    case EncryptionMode::full:
      break;
  }
  m_tls = std::make_unique<TlsStream>(*m_tls_policy.context, m_fd, m_read_timeout);
  std::string why;
  if (!m_tls->handshake(&why)) {
    m_log(fmt::format("spid {}: {}; closing", m_spid, why));
    return false;
  }
  m_out.set_tls(m_tls.get());
  m_login_only_tls = outcome.mode == EncryptionMode::login_only;
  m_log(fmt::format("spid {}: TLS on ({})", m_spid, m_login_only_tls ? "login packet only" : "whole connection"));
  return true;
}

bool Connection::handshake() {
  auto msg = read_message();
  if (!msg) return false;
  const InstanceInfo info = m_instance.info();
  if (msg->type == PacketType::prelogin) {
    if (!negotiate_encryption(parse_prelogin(msg->payload).encryption, info)) return false;
    msg = read_message();
    if (!msg) return false;
  }
  if (msg->type != PacketType::login7) {
    refuse(error_message(4002, 16, "The incoming tabular data stream (TDS) protocol stream is incorrect. Expected LOGIN7."));
    return false;
  }
  if (m_login_only_tls) {
    // Login-only encryption: the LOGIN7 packet came through TLS; from here on clear text.
    m_out.set_tls(nullptr);
    m_tls.reset();
  }
  const Login7 login = parse_login7(msg->payload);
  if (login.integrated_security) {
    refuse(error_message(18452, 14,
                         "Login failed. The login is from an untrusted domain and cannot be used with Integrated "
                         "authentication. (The sandbox supports SQL Server authentication only.)"));
    return false;
  }
  LoginResult result = m_instance.login(login.user_name, login.password, login.database);
  if (!result.session) {
    Message m = result.failure;
    if (m.number == 0) m = error_message(18456, 14, fmt::format("Login failed for user '{}'.", login.user_name));
    if (m.severity == 0) m.severity = 14;
    m_log(fmt::format("spid {}: login failed for user '{}'", m_spid, login.user_name));
    refuse(m);
    return false;
  }
  m_session = std::move(result.session);
  m_session->set_client(login.host_name, login.app_name);
  // A session the server ends from another one (ALTER DATABASE ... WITH ROLLBACK IMMEDIATE)
  // must lose its connection: shutting the read side wakes this thread in recv() (or makes the
  // running request's attention check see the end), and run() then closes the socket.
  m_session->on_killed([fd = m_fd] { ::shutdown(fd, SHUT_RD); });
  m_tds_version = std::min(login.tds_version, k_tds_version_74);
  m_log(fmt::format("spid {}: '{}' logged in (TDS 0x{:08X}, database '{}')", m_spid, login.user_name, login.tds_version,
                    m_session->current_database()));

  std::uint32_t packet_size = login.packet_size == 0 ? k_default_packet_size : login.packet_size;
  packet_size = std::clamp(packet_size, k_min_packet_size, k_max_packet_size);

  ByteWriter& w = m_out.tokens();
  const std::string db = m_session->current_database();
  write_env_string(w, k_env_database, db, "master");
  Message ctx;
  ctx.number = 5701;
  ctx.state = 2;
  ctx.severity = 10;
  ctx.text = fmt::format("Changed database context to '{}'.", db);
  write_message(w, ctx, m_server_name);
  write_env_bytes(w, k_env_sql_collation, {k_default_collation.begin(), k_default_collation.end()}, {});
  write_env_string(w, k_env_language, "us_english", "");
  Message lang;
  lang.number = 5703;
  lang.state = 1;
  lang.severity = 10;
  lang.text = "Changed language setting to us_english.";
  write_message(w, lang, m_server_name);
  write_loginack(w, info.product_version, m_tds_version);
  if (login.requested_features) write_featureextack_empty(w);
  write_env_string(w, k_env_packet_size, std::to_string(packet_size), std::to_string(k_default_packet_size));
  write_done(w, k_token_done, k_done_final, 0, 0);
  m_out.end_message();
  m_out.set_packet_size(packet_size);
  return !m_out.broken();
}

void Connection::run() {
  try {
    if (handshake()) serve_requests();
  } catch (const ProtocolError& e) {
    m_log(fmt::format("spid {}: protocol error, closing: {}", m_spid, e.what()));
    if (!m_out.broken()) send_error_response(error_message(4002, 16, fmt::format(
        "The incoming tabular data stream (TDS) protocol stream is incorrect: {}", e.what())));
  } catch (const std::exception& e) {
    m_log(fmt::format("spid {}: closing after an unexpected error: {}", m_spid, e.what()));
  }
  m_session.reset();
  // The client sees the end at once (the server closes the descriptor when it reaps the thread).
  ::shutdown(m_fd, SHUT_RDWR);
}

void Connection::serve_requests() {
  while (!m_stopping.load() && !m_closed && !m_out.broken()) {
    auto msg = read_message();
    if (!msg) return;
    m_attention = false;
    m_reset_descriptor = 0;
    if ((msg->status & (k_status_reset_connection | k_status_reset_connection_skip_tran)) &&
        msg->type != PacketType::attention && !reset_session(msg->status)) {
      continue;
    }
    switch (msg->type) {
      case PacketType::sql_batch: on_sql_batch(msg->payload); break;
      case PacketType::rpc: on_rpc(msg->payload); break;
      case PacketType::transaction_manager: on_transaction_manager(msg->payload); break;
      case PacketType::attention:
        m_session->abandon_bulk_load();
        on_attention();
        break;
      case PacketType::bulk_load: on_bulk_load(*msg); break;
      default:
        send_error_response(error_message(4002, 16, fmt::format(
            "The sandbox does not handle TDS packet type {} after login.", static_cast<int>(msg->type))));
        break;
    }
  }
}

void Connection::on_attention() {
  // The request had already completed: acknowledge so that the client stops waiting.
  write_done(m_out.tokens(), k_token_done, k_done_attn, 0, 0);
  m_out.end_message();
}

void Connection::acknowledge_attention_if_any() {
  // The acknowledgement is a message of its own after the (cut short) response:
  // tedious discards the rest of the response and waits for the next message;
  // FreeTDS reads on until it sees DONE_ATTN. ([MS-TDS] 3.2.5.7, 3.3.5.7)
  if (!m_attention || m_closed) return;
  write_done(m_out.tokens(), k_token_done, k_done_attn, 0, 0);
  m_out.end_message();
  m_attention = false;
}

std::uint64_t Connection::transaction_began() {
  // Descriptors as SQL Server hands them out: unique within the instance's sessions (the
  // spid in the high half) and never reused by the session.
  m_transaction = (static_cast<std::uint64_t>(m_spid) << 32) | m_next_transaction++;
  return m_transaction;
}

std::uint64_t Connection::transaction_ended() {
  const std::uint64_t ended = m_transaction;
  m_transaction = 0;
  return ended;
}

bool Connection::transaction_descriptor_ok(std::uint64_t descriptor) {
  // A request names the transaction it belongs to in ALL_HEADERS. 0 is what clients send
  // outside a transaction (and what the older ones always send); any other value must be the
  // session's open transaction, else SQL Server refuses the request with 3971.
  if (descriptor == 0 || descriptor == m_transaction || descriptor == m_reset_descriptor) return true;
  send_error_response(error_message(3971, 16, fmt::format("The server failed to resume the transaction. Desc:{:x}.", descriptor)));
  acknowledge_attention_if_any();
  return false;
}

bool Connection::reset_session(std::uint8_t status) {
  // sp_reset_connection before the request, then ENVCHANGE 18 at the head of its response.
  const bool keep_transaction = (status & k_status_reset_connection_skip_tran) != 0;
  try {
    m_session->reset(keep_transaction);
  } catch (const std::exception& e) {
    // The request does not run on a session in an unknown state.
    send_error_response(error_message(50000, 16, fmt::format("The connection could not be reset: {}", e.what())));
    return false;
  }
  write_env_bytes(m_out.tokens(), k_env_reset_ack, {}, {});
  if (!keep_transaction && m_transaction != 0) {
    // The transaction went with the reset: say so (the client drops its descriptor), and let this
    // request, sent while the transaction was still the client's, name it once more.
    ByteWriter d;
    d.u64(m_transaction);
    write_env_bytes(m_out.tokens(), k_env_rollback_tran, {}, d.data());
    m_reset_descriptor = m_transaction;
    m_transaction = 0;
  }
  return true;
}

void Connection::on_sql_batch(const std::vector<std::uint8_t>& payload) {
  const SqlBatch batch = parse_sql_batch(payload);
  if (!transaction_descriptor_ok(batch.headers.transaction_descriptor)) return;
  TokenSink sink(*this);
  try {
    m_session->execute_batch(batch.sql, sink);
  } catch (const std::exception& e) {
    sink.error(error_message(50000, 16, fmt::format("The sandbox engine failed: {}", e.what())));
  }
  sink.finish(k_token_done, false);
  m_out.end_message();
  acknowledge_attention_if_any();
}

void Connection::on_rpc(const std::vector<std::uint8_t>& payload) {
  const RpcRequest req = parse_rpc(payload);
  if (!transaction_descriptor_ok(req.headers.transaction_descriptor)) return;
  for (std::size_t i = 0; i < req.calls.size(); ++i) {
    const RpcCall& call = req.calls[i];
    const bool last = i + 1 == req.calls.size();
    TokenSink sink(*this);
    // sp_prepare/sp_prepexec's handle (parameter 0) is answered by the TDS layer itself.
    const bool prepares = call.procedure == "sp_prepexec" || call.procedure == "sp_prepare";
    sink.expect_outputs(call.params, prepares ? 1 : 0);
    std::vector<RpcParam> params = call.params;
    std::optional<std::pair<std::uint16_t, std::int32_t>> handle_out;  // (ordinal, handle)
    try {
      if (call.procedure == "sp_executesql") {
        // Its first two parameters are positional: clients name them freely (tedious
        // sends @statement) or not at all; the session sees SQL Server's names.
        if (params.size() > 0) params[0].name = "@stmt";
        if (params.size() > 1) params[1].name = "@params";
        m_session->execute_rpc("sp_executesql", params, sink);
      } else if (call.procedure == "sp_prepexec" || call.procedure == "sp_prepare") {
        // (@handle int OUTPUT, @params nvarchar, @stmt nvarchar[, values...]) -> sp_executesql
        if (params.size() < 3) {
          sink.error(error_message(201, 16, fmt::format(
              "Procedure or function '{}' expects parameter '@stmt', which was not supplied.", call.procedure)));
        } else {
          const std::int32_t handle = m_next_handle++;
          m_prepared[handle] = Prepared{text_param(params[1]), text_param(params[2])};
          handle_out = {0, handle};
          if (call.procedure == "sp_prepexec") {
            std::vector<RpcParam> exec = {named_text("@stmt", text_param(params[2])),
                                          named_text("@params", text_param(params[1]))};
            exec.insert(exec.end(), params.begin() + 3, params.end());
            m_session->execute_rpc("sp_executesql", exec, sink);
          }
        }
      } else if (call.procedure == "sp_execute") {
        const auto handle = params.empty() ? std::nullopt : int_param(params[0]);
        auto it = handle ? m_prepared.find(static_cast<std::int32_t>(*handle)) : m_prepared.end();
        if (it == m_prepared.end()) {
          sink.error(error_message(8179, 16, fmt::format("Could not find prepared statement with handle {}.",
                                                         handle.value_or(0))));
        } else {
          std::vector<RpcParam> exec = {named_text("@stmt", it->second.stmt),
                                        named_text("@params", it->second.params)};
          exec.insert(exec.end(), params.begin() + 1, params.end());
          m_session->execute_rpc("sp_executesql", exec, sink);
        }
      } else if (call.procedure == "sp_unprepare") {
        if (!params.empty()) {
          if (auto h = int_param(params[0])) m_prepared.erase(static_cast<std::int32_t>(*h));
        }
      } else if (call.procedure == "sp_reset_connection" || call.procedure == "sys.sp_reset_connection") {
        // What older drivers call instead of setting RESETCONNECTION (SQL Server accepts it by RPC only).
        const bool had_transaction = m_transaction != 0;
        m_session->reset(false);
        if (had_transaction) sink.transaction_changed(ResultSink::Transaction::rolled_back);
        sink.return_status(0);
      } else {
        m_session->execute_rpc(call.procedure, params, sink);
      }
    } catch (const std::exception& e) {
      sink.error(error_message(50000, 16, fmt::format("The sandbox engine failed: {}", e.what())));
    }
    if (handle_out) {
      sink.return_value_at(handle_out->first, call.params[0].name, {SqlType::int_, 0, 0, 0},
                           Value{static_cast<std::int64_t>(handle_out->second)});
    }
    const bool attention = check_attention();
    sink.finish(k_token_doneproc, !last && !attention);
    if (attention) break;
  }
  m_out.end_message();
  acknowledge_attention_if_any();
}

void Connection::on_bulk_load(const ClientMessage& msg) {
  // The rows an INSERT BULK announced ([MS-TDS] 2.2.6.1). A client that gives up while sending
  // them (tedious's cancel, a row its own validation refused) ends the message with the ignore
  // bit: nothing is inserted, and the answer is an empty DONE, as to any ignored message.
  TokenSink sink(*this);
  if (msg.status & k_status_ignore) {
    m_session->abandon_bulk_load();
    sink.finish(k_token_done, false);
    m_out.end_message();
    acknowledge_attention_if_any();
    return;
  }
  if (!m_session->bulk_load_pending()) {
    send_error_response(error_message(4002, 16, "The incoming tabular data stream (TDS) protocol stream is incorrect."
                                                " A bulk load message arrived without an INSERT BULK before it."));
    return;
  }
  BulkLoadMessage data;
  try {
    data = parse_bulk_load(msg.payload, m_tds_version);
  } catch (const ProtocolError& e) {
    m_session->abandon_bulk_load();
    send_error_response(error_message(4002, 16, fmt::format(
        "The incoming tabular data stream (TDS) protocol stream is incorrect: {}", e.what())));
    return;
  }
  try {
    m_session->bulk_load_rows(data.columns, data.rows, sink);
  } catch (const std::exception& e) {
    sink.error(error_message(50000, 16, fmt::format("The sandbox engine failed: {}", e.what())));
  }
  sink.finish(k_token_done, false);
  m_out.end_message();
  acknowledge_attention_if_any();
}

void Connection::on_transaction_manager(const std::vector<std::uint8_t>& payload) {
  const TmRequest tm = parse_tm_request(payload);
  if (!transaction_descriptor_ok(tm.headers.transaction_descriptor)) return;
  TokenSink sink(*this);
  // Each request runs as the T-SQL statement SQL Server documents as its equivalent; the
  // engine reports the transaction's start and end (ENVCHANGE 8/9/10 with the descriptor).
  auto run = [&](const std::string& sql) {
    try {
      m_session->execute_batch(sql, sink);
    } catch (const std::exception& e) {
      sink.error(error_message(50000, 16, fmt::format("The sandbox engine failed: {}", e.what())));
    }
    return !sink.error_seen();
  };
  auto quoted = [](const std::string& name) {
    std::string q = "[";
    for (char c : name) q += c == ']' ? std::string("]]") : std::string(1, c);
    return q + "]";
  };
  auto begin = [&](TmIsolation isolation, const std::string& name) {
    const std::string level = isolation_sql(isolation);
    if (!level.empty() && !run("SET TRANSACTION ISOLATION LEVEL " + level)) return;
    run(name.empty() ? "BEGIN TRANSACTION" : "BEGIN TRANSACTION " + quoted(name));
  };
  switch (tm.type) {
    case TmRequestType::begin:
      begin(tm.isolation, tm.name);
      break;
    case TmRequestType::commit:
      // COMMIT ignores a transaction name (SQL Server documents it as readability only).
      if (run("COMMIT TRANSACTION") && tm.begin_after) begin(tm.new_isolation, tm.new_name);
      break;
    case TmRequestType::rollback:
      if (run(tm.name.empty() ? "ROLLBACK TRANSACTION" : "ROLLBACK TRANSACTION " + quoted(tm.name)) && tm.begin_after) {
        begin(tm.new_isolation, tm.new_name);
      }
      break;
    case TmRequestType::save:
      run("SAVE TRANSACTION " + quoted(tm.name));
      break;
    default:
      sink.error(error_message(8509, 16, "Distributed transactions (DTC) are not supported by the sandbox."));
      break;
  }
  sink.finish(k_token_done, false);
  m_out.end_message();
  acknowledge_attention_if_any();
}

}  // namespace sandbox::tds
