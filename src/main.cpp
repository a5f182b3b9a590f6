#include "app/cli.h"

int main(int argc, char** argv) {
  return isvc::app::run_cli(argc, argv);
}
