#pragma once
// Runs journaled steps in order. A step already done is skipped with its recorded outputs;
// a step left running by a killed process is run again with its partial outputs, so each
// step must be written to resume (the upload continues its upload id, the restore follows
// its task id, the DMS task is looked up before it is created).
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/interrupt.hpp"
#include "core/journal.hpp"

namespace m2r {

// What a step sees: the outputs of earlier steps, its own partial outputs from an earlier
// attempt, and a way to record outputs durably before it finishes.
class StepContext {
 public:
  StepContext(Journal& journal, EventSink& events, std::string step, nlohmann::json previous_outputs,
              nlohmann::json earlier_steps)
      : m_journal(journal), m_events(events), m_step(std::move(step)), m_partial(std::move(previous_outputs)),
        m_earlier(std::move(earlier_steps)) {}

  const std::string& step() const { return m_step; }
  // Outputs this step recorded in an earlier, interrupted attempt ({} on the first).
  const nlohmann::json& partial() const { return m_partial; }
  // Outputs of a finished earlier step ({} when absent).
  const nlohmann::json& outputs_of(const std::string& step) const;
  // Durable before it returns; merged into this step's outputs.
  Expected<void> record(const nlohmann::json& outputs);
  Journal& journal() { return m_journal; }
  // The command's stop request (null when nothing can ask to stop): long waits end early on
  // it, work in flight is cancelled through it; the step then returns an error and the
  // runner records it as interrupted.
  const StopSignal* stop() const { return m_stop; }
  void set_stop(const StopSignal* stop) { m_stop = stop; }

  void progress(double fraction, const std::string& message = {});
  void info(const std::string& message, nlohmann::json data = nlohmann::json::object());
  void warning(const std::string& message);
  EventSink& events() { return m_events; }

 private:
  Journal& m_journal;
  EventSink& m_events;
  std::string m_step;
  nlohmann::json m_partial;
  nlohmann::json m_earlier;
  const StopSignal* m_stop = nullptr;
};

struct StepDefinition {
  std::string name;
  std::string title;
  // Returns the step's final outputs (merged with what it recorded along the way).
  std::function<Expected<nlohmann::json>(StepContext&)> run;
  // The configuration values the step depends on (core/step_inputs.hpp), recorded when it
  // starts; a resume compares them with the configuration of the day.
  nlohmann::json inputs = nlohmann::json::object();
};

// Before a resume: compares each done step's recorded inputs with `steps`' current ones. A
// change that affects a done step before `redo_from` (or any, without it) is refused with
// ErrorKind::config_changed, naming each changed key, the steps it invalidates and the
// `--redo-from` that accepts it. Changes nothing.
Expected<void> check_resume(const std::vector<StepDefinition>& steps, Journal& journal, const std::string& redo_from,
                            const std::string& command);

// `redo_from` and every later step (sub-steps such as "upload/1" included) back to pending
// with nothing recorded, their old records kept as "step_restarted" events.
Expected<void> restart_from(const std::vector<StepDefinition>& steps, Journal& journal, const std::string& redo_from);

// The first step at or after which `changes`' steps lie (in `steps`' order); "" for none.
std::string earliest_step(const std::vector<StepDefinition>& steps, const std::vector<std::string>& names);

// Runs the steps in order; stops at the first failure (recorded in the journal).
// `stop_after`, when set, stops once that step is done (tests kill runs at step boundaries).
// With `stop`, a requested stop ends the run before the next step, and a step that fails
// after a stop was requested is recorded as interrupted (ErrorKind::interrupted): it resumes
// on the next run like a killed one. A step that throws (a damaged journal read unchecked)
// is an error, never an exception out of the runner.
Expected<void> run_steps(const std::vector<StepDefinition>& steps, Journal& journal, EventSink& events,
                         const std::string& stop_after = {}, const StopSignal* stop = nullptr);

}  // namespace m2r
