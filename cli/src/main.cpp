// polyipc: list, inspect, remove and exchange messages with the named objects
// of a polyipc namespace, through the public C API only.
#include <polyipc.h>

#include <functional>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"

using namespace polyipc_cli;

int main(int argc, char** argv) {
  CLI::App app{"polyipc: inspect and use the named IPC objects (queues, ...) of a polyipc namespace."};
  app.name("polyipc");
  app.footer(kExitCodeHelp);  // set before the subcommands so they inherit it
  app.set_version_flag("--version", std::string("polyipc ") + POLYIPC_VERSION_STRING + " (library " +
                                        polyipc_version() + ")");
  app.require_subcommand(1);

  Options o;
  std::function<int(const Options&)> run;
  // CLI11 would take "-1" for an unsigned option and wrap it round to 2^64-1.
  const CLI::Validator whole_number(
      [](std::string& text) -> std::string {
        if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return {};
        return "'" + text + "' is not a whole number (0 or more)";
      },
      "N");
  auto add_watch_options = [&](CLI::App* sub) {
    CLI::Option* watch =
        sub->add_flag("--watch", o.watch, "print every entry, then again after each change, until Ctrl-C");
    sub->add_option("--changes", o.changes, "with --watch: stop after this many changes (default 0: never)")
        ->check(whole_number)
        ->needs(watch);
  };
  // A --timeout whose default depends on the command: o.timeout_given says whether it was given.
  auto add_timeout_option = [&](CLI::App* sub, const char* help) {
    sub->add_option_function<std::string>(
        "--timeout",
        [&o](const std::string& v) {
          o.timeout = v;
          o.timeout_given = true;
        },
        help);
  };
  auto command = [&](const char* name, const char* help, int (*fn)(const Options&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    sub->add_flag("--json", o.json, "machine-readable JSON output");
    sub->callback([&run, fn] { run = fn; });
    return sub;
  };

  command("ls", "list the objects of the namespace: name, kind, depth, capacity, attached processes, mode, owner",
          cmd_ls);

  auto* stat = command("stat", "show every field and counter of one object", cmd_stat);
  stat->add_option("NAME", o.name, "object name")->required();

  auto* rm = command("rm", "remove names (processes attached to them keep working)", cmd_rm);
  rm->add_option("NAME", o.names, "object names")->required()->expected(1, -1);

  command("gc", "remove ephemeral objects whose attached processes all died; report stale ones", cmd_gc);

  auto* top = command("top",
                      "show the objects' counters as rates per second, refreshed every --interval; a line on stdin "
                      "refreshes at once, \"q\" quits",
                      cmd_top);
  top->add_option("NAME", o.names, "watch only these objects (default: the whole namespace)");
  top->add_option("--interval", o.interval, "seconds between frames (default 1; 0.01 to 86400)");
  top->add_option("--iterations", o.iterations, "stop after this many frames, the first one showing totals only "
                                                "(default 0: until \"q\" or Ctrl-C)")
      ->check(whole_number);

  auto* put = command("put", "put one JSON message on an existing queue", cmd_put);
  put->add_option("NAME", o.name, "queue name")->required();
  put->add_option("JSON", o.message, "the message: JSON text, or - to read it from stdin")->required();
  put->add_option("--priority", o.priority, "priority (priority queues: lowest first)");
  put->add_option("--timeout", o.timeout,
                  "seconds to wait for room (default 0: a full queue is an error, exit 3; -1 or 'forever' blocks)");
  put->add_flag("--create", o.create, "create the queue with default options if it does not exist");

  auto* get = command("get", "take one message from a queue and print it", cmd_get);
  get->add_option("NAME", o.name, "queue name")->required();
  add_timeout_option(get,
                     "seconds to wait for a message (default 0: an empty queue is an error, exit 3; -1 or 'forever' "
                     "blocks; with --until-closed, for each message, default forever)");
  get->add_flag("--until-closed", o.until_closed,
                "take and print every message, one per line, until the queue is closed for writing and drained "
                "(then exit 0)");

  auto* peek = command("peek", "print the next messages of a queue without taking them", cmd_peek);
  peek->add_option("NAME", o.name, "queue name")->required();
  peek->add_option("--count", o.count, "at most this many messages (default 10)")->check(CLI::PositiveNumber);

  auto* close = command("close",
                        "end a queue's stream (getters drain it, then get CLOSED) or a pool's tasks (workers drain "
                        "it, then stop)",
                        cmd_close);
  close->add_option("NAME", o.name, "queue or pool name")->required();

  auto* submit = command("submit", "submit a task to a pool, wait for its result and print it", cmd_submit);
  submit->add_option("POOL", o.name, "pool name")->required();
  submit->add_option("FUNCTION", o.function, "the function a worker runs")->required();
  submit->add_option("ARGS", o.message, "its arguments as JSON text (a worker passes them to the function in its language's way), or - to read them from stdin")
      ->required();
  add_timeout_option(submit,
                     "seconds to wait for room in the pool and then for the result (default forever); out of time: "
                     "exit 3, and a task no worker took is cancelled");

  auto* dict = command("dict", "print a dict, or read (KEY), set (KEY JSON) or delete (KEY --delete) one entry",
                       cmd_dict);
  dict->add_option("NAME", o.name, "dict name")->required();
  dict->add_option("KEY", o.key, "the key (UTF-8)");
  dict->add_option("JSON", o.message, "set KEY to this JSON text, or - to read it from stdin");
  dict->add_flag("--delete", o.remove, "delete KEY");
  dict->add_flag("--create", o.create, "create the dict with default options if it does not exist");
  add_watch_options(dict);

  auto* list = command("list", "print a list, or read (INDEX), append (--append JSON) or pop (--pop [INDEX]) a value",
                       cmd_list);
  list->add_option("NAME", o.name, "list name")->required();
  list->add_option("INDEX", o.index, "the value's index (negative: from the end)");
  list->add_option("--append", o.message, "append this JSON text, or - to read it from stdin");
  list->add_flag("--pop", o.remove, "remove and print the value at INDEX (default the last)");
  list->add_flag("--create", o.create, "create the list with default options if it does not exist");
  add_watch_options(list);

  for (const char* action : {"set", "clear", "wait"}) {
    auto* ev = command(action, action[0] == 'w' ? "wait until an event is set" : action[0] == 's' ? "set an event, waking every waiter" : "clear an event", cmd_event);
    ev->add_option("NAME", o.name, "event name")->required();
    ev->callback([&run, &o, action] {
      o.action = action;
      run = cmd_event;
    });
    if (action[0] == 'w')
      ev->add_option("--timeout", o.timeout, "seconds to wait (default 0; -1 or 'forever' blocks); not set in time: exit 3");
  }
  auto* release = command("release", "release slots of a semaphore", cmd_release);
  release->add_option("NAME", o.name, "semaphore name")->required();
  release->add_option("--count", o.slots, "how many slots (default 1)")->check(CLI::PositiveNumber);
  for (const char* action : {"abort", "reset"}) {
    auto* b = command(action, action[0] == 'a' ? "break a barrier: every waiter gets BROKEN" : "reset a barrier: waiters get BROKEN, then it is usable again", cmd_barrier);
    b->add_option("NAME", o.name, "barrier name")->required();
    b->callback([&run, &o, action] {
      o.action = action;
      run = cmd_barrier;
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "polyipc: " << e.what() << "\nRun 'polyipc --help' for usage.\n";
    return kExitUsage;
  }

  try {
    return run(o);
  } catch (const Failure& f) {
    std::cerr << "polyipc: " << f.what() << "\n";
    return f.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "polyipc: " << e.what() << "\n";
    return kExitOther;
  }
}
