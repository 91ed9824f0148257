/** A progress bar on a terminal; plain progress lines (every 10%) when the output is a pipe or a file. */
export interface Progress {
  tick(label: string): void;
  done(): void;
}

export function createProgress(total: number, stream: NodeJS.WriteStream): Progress {
  let count = 0;
  let lastDecile = -1;
  const width = 30;
  return {
    tick(label) {
      count++;
      if (stream.isTTY) {
        const filled = Math.round((count / total) * width);
        const name = label.length > 30 ? '…' + label.slice(-29) : label;
        stream.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${name.padEnd(30)}`,
        );
      } else {
        const decile = Math.floor((count / total) * 10);
        if (decile !== lastDecile || count === total) {
          lastDecile = decile;
          stream.write(`progress ${count}/${total}\n`);
        }
      }
    },
    done() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
