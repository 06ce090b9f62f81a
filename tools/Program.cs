using DaxStack.Tools.Cli;

return DaxstackProgram.Run(args);
