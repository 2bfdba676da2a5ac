// The switch: the `ws` implementation every test in this folder runs the libraries on. It names
// hawser/ws; pointed at "ws" (the package itself) the same tests must pass too, which is how we
// know they test the libraries and not our mistakes.
import WebSocket, { WebSocketServer } from "hawser/ws";

export { WebSocket, WebSocketServer };

/** The package the two classes above come from. */
export const IMPLEMENTATION: string = "hawser/ws";
