/* Subcommands of the tenantlog CLI. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status. */
#ifndef TL_CLI_CLI_H
#define TL_CLI_CLI_H

int tl__cli_emit(int argc, char **argv);
int tl__cli_import(int argc, char **argv);
int tl__cli_audit(int argc, char **argv);
int tl__cli_config(int argc, char **argv);

#endif
